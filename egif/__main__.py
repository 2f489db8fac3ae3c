"""``python -m egif``: the command-line tool (the click app lives in egif_cli)."""

from egif_cli.app import main

if __name__ == "__main__":
    main()
