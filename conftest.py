# The kata's pytest plugin (kata/plugin.py) is loaded for every run from this checkout.
pytest_plugins = ["kata.plugin"]
