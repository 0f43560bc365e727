/*
 * front.h - the HTTP front for online wallet purchases: the whole public
 * contract.
 *
 * `front_serve` runs an HTTP server (libmicrohttpd, JSON with jansson) that
 * turns merchants' signed requests into ledger transactions.  One writer
 * thread owns the ledger connection and commits the requests waiting in a
 * bounded queue together (group commit); a request is answered only after
 * the database transaction holding its effect has committed.  The front
 * keeps its own tables (API keys, idempotency records, purchases, refunds,
 * FX quotes, risk refusals) in the ledger's database, all prefixed `front_`.
 *
 * Accounts (opened by the ledger's templates on first use):
 *   liabilities:wallets:<customer>           wallet in the home currency
 *   liabilities:wallets:<customer>:<asset>   wallet in another asset (points,
 *                                            foreign currency), asset lower case
 *   liabilities:merchants:<m>:payable        what is owed to a merchant
 *   income:fees:processing                   the processing fees (home currency)
 *   equity:trading:<asset>                   trading accounts that balance a
 *                                            points or FX purchase per asset
 *
 * Errors: 0 or an lg_status code, with the ledger's lg_error filled.
 */
#ifndef CLEARBOOK_FRONT_H
#define CLEARBOOK_FRONT_H

#include "../ledger/ledger.h"

#define FRONT_MASTER_KEY_HEX 64  /* hex digits of the AES-256 master key */
#define FRONT_KEY_ID_MAX 32      /* bytes of a key id */
#define FRONT_SECRET_MAX 64      /* bytes of a secret as printed */

typedef struct front_options {
	const char *db_path;      /* the ledger database; borrowed */
	const char *listen;       /* "127.0.0.1:8080"; borrowed */
	const char *config_path;  /* INI file, or NULL for the defaults */
} front_options;

/*
 * Serves until SIGTERM or SIGINT: then stops accepting connections,
 * commits what was accepted, answers it and returns 0.  Reads the
 * configuration and the master key (CLEARBOOK_MASTER_KEY, else the
 * configuration's master_key) first; a bad configuration is LG_EUSAGE or
 * LG_EDATA with the reason in err.  Signals are handled by this function
 * (it blocks SIGTERM/SIGINT in its threads and waits for them).
 */
int front_serve(const front_options *opt, lg_error *err);

/*
 * Makes an API key for `merchant`: writes the key id and the secret (both
 * NUL-terminated, the secret shown only this once) into the caller's
 * buffers.  The secret is stored only AES-256-GCM encrypted under the
 * master key.  `config_path` may be NULL (the key then comes from the
 * environment).  `lg` is borrowed.
 */
int front_apikey_add(ledger *lg, const char *config_path, const char *merchant,
                     char key_id[FRONT_KEY_ID_MAX + 1],
                     char secret[FRONT_SECRET_MAX + 1], lg_error *err);

/* Revokes a key at once: the server refuses it from its next request.
 * LG_ENOINPUT if there is no such key. */
int front_apikey_revoke(ledger *lg, const char *key_id, lg_error *err);

#endif
