from mlprod.cli import main

main()
