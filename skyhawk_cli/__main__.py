"""`python -m skyhawk_cli`: the same as the `skyhawk` console script."""
from skyhawk_cli.cli import main

if __name__ == "__main__":
    main()
