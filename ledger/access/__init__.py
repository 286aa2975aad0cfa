"""Who may do what: users, logins, sessions and tokens, roles over regions, and 制单 → 审核 → 记账.

One module per concept:

- ``tables``: the store's tables of all of them (created with the ledger's schema);
- ``users``: users and their argon2 password hashes, ``authenticate``;
- ``throttle``: login rate limits kept in the store;
- ``tokens``: web sessions and named bearer tokens, kept as SHA-256 digests;
- ``roles``: the actions, the roles, the one role → actions matrix, and scopes;
- ``grants``: roles granted over scopes, ``permits`` and ``require``;
- ``proposals``: documents entered for approval, approved or rejected by another user, then posted;
- ``errors``: the refusals, under ``LedgerError``.

The package knows nothing of the web: the HTTP service authenticates a
request, loads the user's ``Permissions`` and calls these functions.
"""
