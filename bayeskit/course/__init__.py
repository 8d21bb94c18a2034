"""Code that only one notebook of the series needs (a bag search, a pebble game), kept out of the core.

Each module here belongs to one notebook and says which; the core package never imports from here.
"""
