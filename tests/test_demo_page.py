"""``python demo.py``: the page is opened in a real browser (Debian's chromium, driven by Playwright),
digits are drawn on its canvas with the mouse, and what the page shows is read back."""

import contextlib
import io
import socket
import threading
from pathlib import Path

import pytest
import torch
from PIL import Image

from helpers.paths import REAL_DATA_DIR, real_mnist
from helpers.ports import free_port
from helpers.running import call_main
from helpers.system_packages import needs_program
from helpers.waiting import wait_until
from lstm_mnist.apps import demo
from lstm_mnist.data.mnist import MNISTDataModule

pytestmark = real_mnist  # reading drawn digits right takes a model trained on the real MNIST
WAIT = 20_000  # ms for an answer to show: a loaded CI machine can take seconds


def last_checkpoint(run: Path) -> Path:
    return run / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"


def start_page(*flags: str):
    """``python demo.py --ckpt_path CKPT --port PORT FLAGS`` served from a thread of this process (a
    process of its own would import torch again): the page, to be stopped with ``close()``, and its URL."""
    port = free_port()
    result = io.StringIO()
    with contextlib.redirect_stdout(result):
        page = demo.main(["--port", str(port), *flags], block=False)
    url = f"http://127.0.0.1:{port}"
    assert result.getvalue() == f"demo page: {url}  (Ctrl-C to stop)\n"
    return page, url


def pictures_kept(folder: Path) -> list[Path]:
    """The files Gradio keeps for a page under ``$GRADIO_TEMP_DIR``, but the empty one its upload
    parser leaves behind each upload (and never deletes, nor counts as the page's)."""
    return [path for path in folder.rglob("*") if path.is_file() and path.stat().st_size]


@pytest.fixture(scope="module")
def page_url(trained_on_mnist, tmp_path_factory):
    """The demo page of a model trained one epoch, for the tests of this file that one test process
    runs; the files Gradio keeps for it in a folder of the test's (not /tmp/gradio)."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("gradio")))
        page, url = start_page("--ckpt_path", str(last_checkpoint(trained_on_mnist)))
        try:
            yield url
        finally:
            page.close()


def stroke(page, box, points) -> None:
    """One mouse stroke through ``points`` given as fractions of the canvas."""
    x, y, width, height = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + points[0][0] * width, y + points[0][1] * height)
    page.mouse.down()
    for px, py in points[1:]:
        page.mouse.move(x + px * width, y + py * height, steps=2)  # the brush draws straight segments between events
    page.mouse.up()


def draw(page, *strokes) -> None:
    """A new drawing: clear the canvas, pick the brush (clearing drops it), draw ``strokes``."""
    page.get_by_role("button", name="Clear canvas").click()
    page.get_by_role("button", name="Brush").first.click()
    box = page.locator("#sketch canvas").first.bounding_box()
    for points in strokes:
        stroke(page, box, points)
    page.get_by_role("button", name="Read it").click()


def upload(page, path: Path) -> None:
    clear = page.locator("#upload").get_by_role("button", name="Clear")
    if clear.count():
        clear.first.click()
    page.locator("#upload input[type=file]").set_input_files(str(path))


@pytest.fixture
def chromium() -> str:
    """Debian's chromium (Playwright's own download is not reachable from CI): checked before the
    page is served."""
    return needs_program("chromium", "chromium", "the demo page's test")


def test_drawn_digits_are_read_and_bad_uploads_answered_in_a_real_browser(chromium, page_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    answer = "#answer"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 1100})
        page.goto(page_url)

        expect(page.locator(answer)).to_have_text("Draw a digit, then press Read it.", timeout=WAIT)
        # the page says which network reads and what it learned from (the checkpoint records it)
        expect(page.get_by_text("LSTM of 64 units reading rows, trained on MNIST)")).to_be_visible()
        page.get_by_role("button", name="Read it").click()  # nothing drawn yet
        expect(page.locator(answer)).to_have_text(demo.DRAW_FIRST, timeout=WAIT)

        draw(page, [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])  # a 7
        expect(page.locator(answer)).to_have_text("It reads a 7.", timeout=WAIT)
        expect(page.locator("#top3")).to_contain_text("7")
        expect(page.locator("#seen img")).to_be_visible()
        expect(page.locator("#chart img")).to_be_visible()

        draw(page, [(0.5, 0.15), (0.5, 0.85)])  # a 1
        expect(page.locator(answer)).to_have_text("It reads a 1.", timeout=WAIT)

        (tmp_path / "digit.png").write_text("not a picture")
        upload(page, tmp_path / "digit.png")
        not_an_image = "That file could not be read: not an image PIL can read."
        expect(page.locator(answer)).to_have_text(not_an_image, timeout=WAIT)

        # (pictures Pillow refuses, such as decompression bombs, take the same path: tests/test_picture_reading.py;
        # uploaded digits read right: the twenty visitors below)
        with open(tmp_path / "photo.png", "wb") as oversized:  # above --max_file_size (20mb): never sent
            oversized.truncate(21 * 1024 * 1024)
        upload(page, tmp_path / "photo.png")
        expect(page.get_by_text('File(s) exceed the maximum allowed size of 20.0 Mb: "photo.png"')).to_be_visible()
        browser.close()


def test_twenty_visitors_at_once_each_get_their_own_answer_and_oversized_uploads_are_refused(
    page_url, trained_on_mnist, tmp_path
):
    """Twenty clients (Gradio's own, through the page's HTTP API) upload twenty different test digits
    at the same instant; each gets the answer for its own picture. An upload above the limit is
    refused by the server itself (a client other than the page's may skip the page's check), and the
    page answers afterwards."""
    import httpx
    from gradio_client import Client, handle_file

    from lstm_mnist.data.picture_reading import read_picture
    from lstm_mnist.training.digit_classifier import DigitClassifier

    data = MNISTDataModule(data_dir=REAL_DATA_DIR)
    data.setup("test")
    images, labels = data.splits["test"]
    pictures = []
    for index in range(20):
        pixels = (255 - images[index].numpy() * 255).round().astype("uint8")
        Image.fromarray(pixels).resize((112, 112)).save(tmp_path / f"digit{index}.png")
        pictures.append(tmp_path / f"digit{index}.png")
    model = DigitClassifier.load_from_checkpoint(last_checkpoint(trained_on_mnist)).eval()
    with torch.inference_mode():  # the page's answer for each picture, read here without the page
        expected = [f"It reads a **{int(model(read_picture(path)[None]).argmax())}**." for path in pictures]
    assert len(set(expected)) >= 8  # the answers differ, so an answer sent to the wrong visitor shows

    clients = [Client(page_url, verbose=False, download_files=False) for _ in pictures]  # the answers' text
    answers: list = [None] * len(pictures)
    start = threading.Barrier(len(pictures))

    def visit(index: int) -> None:
        start.wait()
        answers[index] = clients[index].predict(handle_file(str(pictures[index])), api_name="/upload")[0]

    visitors = [threading.Thread(target=visit, args=(index,)) for index in range(len(pictures))]
    for visitor in visitors:
        visitor.start()
    for visitor in visitors:
        visitor.join(timeout=120)
    assert answers == expected
    assert sum(answer == f"It reads a **{int(label)}**." for answer, label in zip(answers, labels)) >= 18

    oversized = httpx.post(
        f"{page_url}/gradio_api/upload", files={"files": ("photo.png", bytes(21 * 1024 * 1024), "image/png")}
    )
    assert (oversized.status_code, oversized.text) == (
        413,
        "File size exceeded maximum allowed size of 20971520 bytes.",
    )
    again = Client(page_url, verbose=False, download_files=False)
    assert again.predict(handle_file(str(pictures[0])), api_name="/upload")[0] == expected[0]


def test_the_pictures_sent_and_answered_with_are_deleted_after_keep_files_for(trained_on_mnist, tmp_path, monkeypatch):
    """Gradio keeps each picture a visitor sends and each it answers with as a file: a page open for
    weeks would keep them all. With ``--keep_files_for 2`` (checked every 2 s, so a file lives 2 to
    4 s: time to see it after the answer on a loaded machine) they go, the page still answers, and
    stopping it deletes the rest."""
    from gradio_client import Client, handle_file

    kept = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(kept))
    digit = tmp_path / "digit.png"
    canvas = Image.new("L", (112, 112), 255)
    canvas.paste(0, (52, 16, 60, 96))  # a 1: a black bar on white
    canvas.save(digit)
    page, url = start_page("--ckpt_path", str(last_checkpoint(trained_on_mnist)), "--keep_files_for", "2")
    try:
        visitor = Client(url, verbose=False, download_files=False)
        assert visitor.predict(handle_file(str(digit)), api_name="/upload")[0] == "It reads a **1**."
        # the upload's copy and the 28x28 picture the page shows (the chart travels inside the answer)
        assert sorted(path.name for path in pictures_kept(kept)) == ["digit.png", "image.webp"]
        assert wait_until(lambda: not pictures_kept(kept), seconds=30, every=0.1)
        assert visitor.predict(handle_file(str(digit)), api_name="/upload")[0] == "It reads a **1**."
        assert pictures_kept(kept)
    finally:
        page.close()
    assert not pictures_kept(kept)


def test_a_port_in_use_or_a_missing_checkpoint_is_one_line(trained_on_mnist, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        for args, expect in (
            ((last_checkpoint(trained_on_mnist), port), f"error: port {port} on 127.0.0.1 is in use"),
            ((tmp_path / "missing.ckpt", port), "does not exist"),
        ):
            result = call_main(demo.main, ["--ckpt_path", str(args[0]), "--port", str(args[1])])
            assert result.code == 1 and expect in result.err and result.err.count("\n") == 1
        result = call_main(
            demo.main, ["--ckpt_path", str(last_checkpoint(trained_on_mnist)), "--max_file_size", "lots"]
        )
        assert (
            result.code == 1
            and result.err == "error: --max_file_size must be a size such as 20mb or 500kb, got 'lots'\n"
        )
        result = call_main(demo.main, ["--ckpt_path", str(last_checkpoint(trained_on_mnist)), "--keep_files_for", "0"])
        assert result.code == 1 and result.err == "error: --keep_files_for must be at least 1 second, got 0\n"


def test_a_number_written_on_the_wide_canvas_is_read_in_a_real_browser(chromium, tmp_path, monkeypatch):
    """``demo.py --numbers``: the bundled number reader's page, a 1 and a 7 written side by side."""
    from playwright.sync_api import expect, sync_playwright

    from lstm_mnist.apps import number_demo

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    served, url = start_page("--numbers")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1300})
            page.goto(url)
            expect(page.locator("#answer")).to_have_text("Write a number, then press Read it.", timeout=WAIT)
            expect(
                page.get_by_text("reading a line's columns, trained on MNIST and digits set in fonts")
            ).to_be_visible()
            page.get_by_role("button", name="Read it").click()
            expect(page.locator("#answer")).to_have_text(number_demo.WRITE_FIRST, timeout=WAIT)
            draw(page, [(0.2, 0.2), (0.2, 0.8)], [(0.3, 0.22), (0.42, 0.22), (0.34, 0.8)])  # 1, then 7
            expect(page.locator("#answer")).to_contain_text("It reads 17 (probability", timeout=WAIT)
            expect(page.locator("#seen img")).to_be_visible()
            expect(page.locator("#chart img")).to_be_visible()
            browser.close()
    finally:
        served.close()
