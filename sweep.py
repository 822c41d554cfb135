from lstm_mnist.sweep import main

if __name__ == "__main__":
    main()
