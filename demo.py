from lstm_mnist.demo import main

if __name__ == "__main__":
    main()
