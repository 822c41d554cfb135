from lstm_mnist.apps.export import main

if __name__ == "__main__":
    main()
