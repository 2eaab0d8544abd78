import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

# Without a broker, the process that serves also runs the beat schedule (config/beat.py).
from config.beat import start_in_process_beat  # noqa: E402 - after Django is set up

start_in_process_beat()
