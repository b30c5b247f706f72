"""`python -m bot`: the same as `ourvoice run` (web chat and admin on the embedded defaults)."""

from admin.cli import main

if __name__ == "__main__":
    main()
