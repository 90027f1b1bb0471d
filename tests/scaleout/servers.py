"""Exit 0 when PostgreSQL and Redis answer at the given URLs, else 1 with the reason."""

import socket
import sys
from urllib.parse import urlsplit


def reachable(url, default_port):
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError as error:
        print(f"{parts.scheme} at {parts.hostname}:{parts.port or default_port}: {error}")
        return False


if __name__ == "__main__":
    pg, redis = sys.argv[1], sys.argv[2]
    ok = reachable(pg, 5432) & reachable(redis, 6379)
    sys.exit(0 if ok else 1)
