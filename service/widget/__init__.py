"""The embeddable widget and the demo article page. Imports nothing from the other domains."""
