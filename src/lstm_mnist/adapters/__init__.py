"""The private names of other libraries that this project cannot do without, one module a library,
each checked by ``tests/test_adapters.py`` against the installed library: an upgrade that changes
one fails a named test instead of a user's run. Nothing else in the package uses a library's
private name."""
