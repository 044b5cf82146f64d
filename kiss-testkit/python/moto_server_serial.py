"""moto's server, with one request at a time inside its backends.

moto's in-memory backends are not thread-safe, while its server answers
each connection on its own thread. Secrets Manager's store, for one, walks
its dict in Python, so a ListSecrets that runs while a CreateSecret adds a
secret can fail with "dictionary changed size during iteration" and an
HTTP 500 without an AWS error code: an error AWS itself would not make,
which the soak then counts against kiss-server. Connections are still
accepted and read on their own threads; only the backend work is serial.

Takes moto_server's own arguments (-H, -p, ...).
"""

import threading

from moto import server

_backend = threading.Lock()


class SerialDispatcher(server.DomainDispatcherApplication):
    def __call__(self, environ, start_response):
        with _backend:
            # moto's responses are built in full before they are returned,
            # so nothing of the backend runs after the lock is released.
            return super().__call__(environ, start_response)


server.DomainDispatcherApplication = SerialDispatcher

if __name__ == "__main__":
    server.main()
