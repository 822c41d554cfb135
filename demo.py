from lstm_mnist.apps.demo import main

if __name__ == "__main__":
    main()
