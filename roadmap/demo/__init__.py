"""The demo workspace: its content as data (``content``), the code that loads it (``load``)."""
