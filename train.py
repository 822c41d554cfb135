from lstm_mnist.command import main

if __name__ == "__main__":
    main()
