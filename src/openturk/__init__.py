"""OpenTurk: a self-hosted marketplace server that speaks the Amazon Mechanical Turk Requester API."""

__version__ = "0.1.0"
