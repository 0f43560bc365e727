/*
 * exporters.h - what regulators, banks and auditors receive: the whole
 * public contract of the exporters module.
 *
 * Every exporter reads the ledger (never writes it) and writes one file to
 * a FILE the caller owns.  Output is deterministic: no clock is read here;
 * the creation time and every other varying input come in through the
 * options.  Every function returns 0 (LG_OK) or an exit-status style code
 * (ledger.h) and fills the caller's lg_error.
 *
 * Integrity: an export directory carries MANIFEST.json (name, size and
 * SHA-256 of every file, the period, the chain head, the command) and its
 * Ed25519 signature MANIFEST.json.sig; a closed period carries a signed
 * seal.  docs/exporters.md describes every format.
 *
 * OpenSSL, iconv and jansson types stay inside this module.
 */
#ifndef CLEARBOOK_EXPORTERS_H
#define CLEARBOOK_EXPORTERS_H

#include <stddef.h>
#include <stdio.h>

#include "../ledger/ledger.h"

#define EXP_SIG_BYTES 64          /* an Ed25519 signature */
#define EXP_TS_MAX 32             /* "2026-11-25T02:00:00Z" and NUL */
#define EXP_NAME_MAX 64           /* bytes in an export file's name */
#define EXP_FILES_MAX 16          /* files in one export directory */
#define EXP_FILE_BYTES_MAX ((size_t)1 << 31) /* bytes in one exported file */
#define EXP_PARTY_NAME_MAX 600    /* bytes: 140 characters of up to 4 bytes */
#define EXP_IBAN_MAX 35           /* 34 characters and NUL */
#define EXP_BIC_MAX 12            /* 11 characters and NUL */

/* --- a consistent read of the ledger ----------------------------------- */

/*
 * Opens a read transaction on the ledger's database so that the chain head
 * and every file of one export come from the same snapshot, even while
 * another process posts.  Pair with exp_snapshot_end.
 */
int exp_snapshot_begin(ledger *lg, lg_error *err);
void exp_snapshot_end(ledger *lg);

typedef struct exp_head {
	long long seq;              /* transactions in the chain (0: empty) */
	char hash_hex[LG_HASH_HEX]; /* 64 zeros for an empty ledger */
	char booked_at[EXP_TS_MAX]; /* of the head transaction, "" if empty */
} exp_head;
/* Reads the chain head: the highest seq and its hash. */
int exp_ledger_head(ledger *lg, exp_head *out, lg_error *err);

/* --- camt.053.001.08 statement of one ledger account ------------------- */

typedef struct exp_camt053_opts {
	const char *account;    /* ledger account code */
	const char *from, *to;  /* inclusive dates YYYY-MM-DD */
	const char *created_at; /* GrpHdr/CreDtTm, "YYYY-MM-DDTHH:MM:SSZ" */
} exp_camt053_opts;
/*
 * Writes a camt.053.001.08 statement of `account` for from..to: opening
 * booked balance (OPBD) at the end of the day before `from`, closing (CLBD)
 * at the end of `to`, one Ntry per booked posting on the account.  The
 * direction follows the account's side (docs/exporters.md).  LG_ENOINPUT
 * for an unknown account; LG_EDATA when the asset is not an ISO 4217 code
 * or an amount has more than 5 decimals or 18 digits.
 */
int exp_camt053_write(ledger *lg, const exp_camt053_opts *o, FILE *out,
                      lg_error *err);

/* --- pain.001.001.10 merchant payouts ---------------------------------- */

typedef struct exp_party {
	char name[EXP_PARTY_NAME_MAX];
	char iban[EXP_IBAN_MAX];
	char bic[EXP_BIC_MAX];      /* "" when not given */
} exp_party;

/* Reads [debtor] name, iban, bic from an INI file into *p (fields the file
 * does not set are left as they were).  LG_ENOINPUT if the file is
 * missing, LG_EDATA if it does not parse. */
int exp_party_load_ini(const char *path, exp_party *p, lg_error *err);

typedef struct exp_pain001_opts {
	const char *from, *to;      /* inclusive dates of the payout transactions */
	const char *created_at;     /* GrpHdr/CreDtTm */
	const char *msg_id;         /* GrpHdr/MsgId; NULL: derived from the dates */
	const exp_party *debtor;    /* our own account; borrowed */
} exp_pain001_opts;
/*
 * Writes a pain.001.001.10 credit transfer initiation with one payment per
 * payout transaction (meta type "payout") dated from..to that was not
 * reversed: EndToEndId = meta payout_id, the amount debited to
 * liabilities:merchants:<merchant>:payable, the creditor from that
 * account's meta (name, iban, bic).  One PmtInf per execution date and
 * currency.  *payments_out gets the count.  LG_EDATA naming the merchant
 * and the field when a detail is missing or malformed; LG_ENOINPUT when
 * there is no payout to export (nothing is written then).
 */
int exp_pain001_write(ledger *lg, const exp_pain001_opts *o, FILE *out,
                      long *payments_out, lg_error *err);

/* --- CSV ----------------------------------------------------------------- */

/* Writes one CSV field (RFC 4180 quoting; `text` fields get formula
 * neutralisation).  The command line passes its own out_csv_field, so that
 * every CSV clearbook writes is quoted and neutralised the same way. */
typedef void (*exp_csv_field_fn)(FILE *fp, const char *s, int text);

typedef struct exp_csv_opts {
	const char *from, *to;    /* journal dates (NULL: open); balances at `to` */
	const char *encoding;     /* iconv name; NULL or "UTF-8": no conversion */
	exp_csv_field_fn field;   /* required */
} exp_csv_opts;
/* journal.csv: the columns of `clearbook journal --format csv`. */
int exp_csv_journal_write(ledger *lg, const exp_csv_opts *o, FILE *out,
                          lg_error *err);
/* balances.csv: the columns of `clearbook balance --format csv`, at `to`
 * (NULL: now). */
int exp_csv_balances_write(ledger *lg, const exp_csv_opts *o, FILE *out,
                           lg_error *err);
/* accounts.csv: code, type, asset, name (from the meta), opened_at,
 * closed_at. */
int exp_csv_accounts_write(ledger *lg, const exp_csv_opts *o, FILE *out,
                           lg_error *err);
/* LG_OK if iconv can convert UTF-8 to `encoding`, else LG_EUSAGE. */
int exp_encoding_check(const char *encoding, lg_error *err);

/* --- hledger / ledger-cli journal ------------------------------------ */

/*
 * Writes the journal in hledger/ledger-cli syntax: account and commodity
 * directives, then every booked transaction dated from..to (NULL: open),
 * preceded, when `from` is given, by one opening-balances transaction
 * dated `from`.  Pending holds are not booked and appear as comments.
 * `hledger -f FILE balance` then equals `clearbook balance --at TO`.
 */
int exp_journal_write(ledger *lg, const char *from, const char *to, FILE *out,
                      lg_error *err);

/* --- goAML report of AML alerts --------------------------------------- */

#define EXP_GOAML_FIELD_MAX 256   /* bytes of one [entity] value */

/* The reporting entity from the [entity] section of an INI file. */
typedef struct exp_goaml_entity {
	char id[EXP_GOAML_FIELD_MAX];          /* rentity_id (required) */
	char name[EXP_GOAML_FIELD_MAX];        /* institution_name (required) */
	char first_name[EXP_GOAML_FIELD_MAX];  /* reporting_person (required) */
	char last_name[EXP_GOAML_FIELD_MAX];   /* reporting_person (required) */
	char email[EXP_GOAML_FIELD_MAX];       /* reporting_person (required) */
	char country[EXP_GOAML_FIELD_MAX];     /* from_/to_country (required) */
	char swift[EXP_GOAML_FIELD_MAX];       /* "" : institution_code = id */
	char currency[EXP_GOAML_FIELD_MAX];    /* "" : the alerts' asset */
	char location[EXP_GOAML_FIELD_MAX];    /* transaction_location, "" : none */
	char transmode_code[EXP_GOAML_FIELD_MAX]; /* "" : "ELECTRONIC" */
	char funds_code[EXP_GOAML_FIELD_MAX];  /* "" : "OTHER" */
} exp_goaml_entity;

/* Reads [entity] from an INI file (other sections ignored) over *e, then
 * checks the required fields: LG_ENOINPUT if the file is missing,
 * LG_EDATA if it does not parse or has an unknown key in [entity],
 * LG_EUSAGE naming the first required field that is missing. */
int exp_goaml_entity_load(const char *path, exp_goaml_entity *e, lg_error *err);

/* The alerts of one report and their evidence ids, read before the
 * export's snapshot opens (reading alerts may create their tables). */
typedef struct exp_goaml_alerts exp_goaml_alerts;

typedef struct exp_goaml_opts {
	const char *from, *to;       /* alert days, inclusive; NULL: open */
	const char *status;          /* "escalated" (NULL) or "open" */
	const char *report_code;     /* "STR" (NULL) or "CTR": large-value only */
	const char *created_at;      /* submission_date, "YYYY-MM-DDTHH:MM:SSZ" */
	const exp_goaml_entity *entity; /* borrowed */
	exp_goaml_alerts *alerts;    /* from exp_goaml_alerts_load; borrowed */
} exp_goaml_opts;
/*
 * Reads the stored AML alerts with the current `status` whose day lies in
 * from..to (CTR: rule large-value only) into *out, which the caller frees
 * with exp_goaml_alerts_free.  Must run outside a snapshot.  LG_ENOINPUT
 * when no alert matches; LG_EUSAGE for a bad status or report code.
 */
int exp_goaml_alerts_load(ledger *lg, const exp_goaml_opts *o,
                          exp_goaml_alerts **out, lg_error *err);
void exp_goaml_alerts_free(exp_goaml_alerts *a);
/*
 * Writes one goAML <report> (docs/exporters.md) of o->alerts, one
 * <transaction> per distinct evidence transaction in journal order.
 * LG_EDATA when an evidence transaction is missing or not in the local
 * currency.
 */
int exp_goaml_write(ledger *lg, const exp_goaml_opts *o, FILE *out,
                    lg_error *err);

/* --- keys, manifest, seal ---------------------------------------------- */

/* Writes a new Ed25519 private key to `path` (PEM, mode 0600, refused if
 * the file exists: LG_EIO) and its public key to path.pub (PEM). */
int exp_keygen(const char *path, lg_error *err);
/* Loads the private key at `path` to check it is an Ed25519 key:
 * LG_ENOINPUT if missing, LG_EDATA if it is not one. */
int exp_key_check(const char *path, lg_error *err);

typedef struct exp_manifest {
	const char *export_name;   /* "camt053" */
	const char *command;       /* the export command, without --out/--key */
	const char *created_at;
	const char *from, *to;     /* the period; NULL: open */
	exp_head head;
	int files_n;
	char files[EXP_FILES_MAX][EXP_NAME_MAX]; /* names inside the directory */
} exp_manifest;
/*
 * Writes dir/MANIFEST.json describing every file of m (sizes and SHA-256
 * read back from disk) and dir/MANIFEST.json.sig, the raw 64-byte Ed25519
 * signature of the manifest's bytes with the key at key_path.
 */
int exp_manifest_write(const char *dir, const exp_manifest *m,
                       const char *key_path, lg_error *err);
/*
 * Checks dir/MANIFEST.json.sig against the manifest with the public key
 * at pubkey_path, then every listed file's size and SHA-256, and that no
 * other file is in the directory.  LG_OK, or LG_ECHECK with err->msg
 * naming the first file that does not match; LG_ENOINPUT if the key or
 * the manifest is missing.
 */
int exp_manifest_verify(const char *dir, const char *pubkey_path, lg_error *err);

/*
 * Writes the seal of the closed period "YYYY-MM": dir/seal-YYYY-MM.json
 * (canonical JSON: the period, its end date, when it was closed, the chain
 * head recorded at closing and every account's closing balance) and
 * dir/seal-YYYY-MM.json.sig.  The path of the seal goes to path_out.
 * LG_ENOINPUT if the period is not closed.
 */
int exp_seal_write(ledger *lg, const char *period, const char *key_path,
                   const char *dir, char *path_out, size_t path_cap,
                   lg_error *err);
/*
 * Checks a seal's signature (seal_path.sig) with the public key; with `lg`
 * (may be NULL) also that the ledger's close of that period, its chain
 * (ledger_verify) and its balances at the period's end match the seal.
 * LG_OK or LG_ECHECK naming what does not match.
 */
int exp_seal_verify(const char *seal_path, const char *pubkey_path, ledger *lg,
                    lg_error *err);

#endif
