"""LOA Studio core: the AudioLDM 2 engine and audio tools. Never imports Qt."""

__version__ = "0.1.0"
APP_NAME = "LOA Studio"
