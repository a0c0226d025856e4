"""The object model and its services. Imports no web framework, database driver or IPython."""
