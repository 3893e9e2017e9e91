from planguard.cli import run

run()
