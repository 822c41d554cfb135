from lstm_mnist.apps.cli import main

if __name__ == "__main__":
    main()
