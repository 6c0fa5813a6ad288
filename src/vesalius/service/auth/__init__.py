"""Access control for the web application: accounts, sessions, tokens, CSRF and audit.

- :mod:`~vesalius.service.auth.gate`: :class:`~vesalius.service.auth.gate.Gate`, the real
  ``authorize`` (cookie session with CSRF, Bearer API token, Basic), 401/403, refusals
  audited;
- :mod:`~vesalius.service.auth.session_api`: ``/api/login``, ``/api/logout``,
  ``/api/session`` (throttled logins, see :mod:`~vesalius.service.auth.throttle`);
- :mod:`~vesalius.service.auth.users_api`: ``/api/users``;
- :mod:`~vesalius.service.auth.audit_api`: ``/api/audit``;
- :mod:`~vesalius.service.auth.audit_log`: ``audit(...)``, what every router calls for a
  read or change of patient data;
- :mod:`~vesalius.service.auth.dicomweb_guard`: permissions and audit for ``/dicom-web``.

The accounts themselves live in :mod:`vesalius.store.users`; roles and permissions in
:mod:`vesalius.store.roles`. Importing this package imports nothing heavy.
"""
