from lstm_mnist.export import main

if __name__ == "__main__":
    main()
