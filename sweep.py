from lstm_mnist.apps.sweep import main

if __name__ == "__main__":
    main()
