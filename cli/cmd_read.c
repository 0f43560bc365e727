/*
 * cmd_read.c - the commands that read the ledger: verify, balance, journal.
 */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int cmd_verify(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook verify\n"
		"Recomputes the SHA-256 hash chain (docs/hash-chain.md), checks that\n"
		"sequence numbers are gapless, that every stored balance equals the sum\n"
		"of its postings and that closed periods still match the chain. Prints\n"
		"the chain head and exits 0, or names the first problem and exits 1.\n";
	const char *pos[1];
	ledger_verify_result res;
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, NULL, pos, 0, 0, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	rc = ledger_verify(lg, &res, &err);
	ledger_close(lg);
	if (rc == LG_ECHECK) {
		if (res.broken_seq)
			fprintf(stderr, "clearbook: verify: broken at seq %lld: %s\n",
			        res.broken_seq, res.problem);
		else
			fprintf(stderr, "clearbook: verify: %s\n", res.problem);
		return LG_ECHECK;
	}
	if (rc)
		return cli_fail(&err);
	printf("ok: %lld transactions, chain head %s\n", res.transactions, res.head_hex);
	return 0;
}

static int balance_row(void *ctx, const ledger_balance_row *r)
{
	char posted[AMOUNT_TEXT_MAX], pending[AMOUNT_TEXT_MAX], avail[AMOUNT_TEXT_MAX];
	amount_format(r->posted_minor, r->scale, posted, sizeof posted);
	amount_format(r->pending_minor, r->scale, pending, sizeof pending);
	amount_format(r->available_minor, r->scale, avail, sizeof avail);
	const char *cells[] = { r->account, r->asset, posted, pending, avail,
	                        r->is_rollup ? "yes" : "" };
	return out_table_add(ctx, cells) ? LG_EINTERNAL : 0;
}

int cmd_balance(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook balance [PREFIX] [--at YYYY-MM-DD] [--format text|csv|json]\n"
		"Posted, pending (open holds, net) and available balances per account and\n"
		"asset, with roll-up rows for every prefix (assets, assets:bank, ...).\n"
		"Debits are positive, credits negative. --at gives balances as of the end\n"
		"of that date, computed from the postings.\n";
	static const char *const names[] = { "account", "asset", "posted", "pending",
	                                     "available", "rollup" };
	static const unsigned flags[] = { 0, 0, OUT_NUMERIC, OUT_NUMERIC, OUT_NUMERIC, 0 };
	const char *at = NULL, *format = NULL, *pos[1];
	struct cli_opt opts[] = { { "--at", &at, NULL }, { "--format", &format, NULL },
	                          { NULL, NULL, NULL } };
	enum out_format f;
	out_table t;
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 0, 1, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (cli_format(format, &f))
		return LG_EUSAGE;
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	out_table_init(&t, 6, names, flags);
	rc = ledger_balances(lg, n ? pos[0] : NULL, at, balance_row, &t, &err);
	if (!rc)
		out_table_print(&t, f, stdout);
	out_table_release(&t);
	ledger_close(lg);
	return rc ? cli_fail(&err) : 0;
}

struct journal_out {
	enum out_format f;
	int count;
};

static void journal_text(const ledger_tx_row *tx)
{
	size_t w = 0;

	printf("%s  %s  %s  [#%lld %s%s%s]\n", tx->date, tx->id, tx->memo, tx->seq,
	       tx->kind, tx->ref_id ? " of " : "", tx->ref_id ? tx->ref_id : "");
	for (int i = 0; i < tx->postings_n; i++)
		if (strlen(tx->postings[i].account) > w)
			w = strlen(tx->postings[i].account);
	for (int i = 0; i < tx->postings_n; i++) {
		const ledger_posting_row *p = &tx->postings[i];
		char amt[AMOUNT_TEXT_MAX];
		amount_format(p->amount_minor, p->scale, amt, sizeof amt);
		printf("    %-*s  %24s %s\n", (int)w, p->account, amt, p->asset);
	}
	putchar('\n');
}

static void journal_csv(const ledger_tx_row *tx)
{
	for (int i = 0; i < tx->postings_n || (i == 0 && tx->postings_n == 0); i++) {
		const ledger_posting_row *p = tx->postings_n ? &tx->postings[i] : NULL;
		char seq[32], amt[AMOUNT_TEXT_MAX] = "";
		snprintf(seq, sizeof seq, "%lld", tx->seq);
		if (p)
			amount_format(p->amount_minor, p->scale, amt, sizeof amt);
		const char *cells[] = { seq, tx->id, tx->kind, tx->ref_id ? tx->ref_id : "",
		                        tx->date, tx->booked_at, tx->memo,
		                        p ? p->account : "", p ? p->asset : "", amt };
		for (int c = 0; c < 10; c++) {
			out_csv_field(stdout, cells[c], c != 0 && c != 9);
			fputs(c == 9 ? "\r\n" : ",", stdout);
		}
	}
}

static void journal_json(const ledger_tx_row *tx, int first)
{
	json_t *o = json_object(), *ps = json_array();
	json_error_t jerr;
	char *text;

	json_object_set_new(o, "seq", json_integer(tx->seq));
	json_object_set_new(o, "id", json_string(tx->id));
	json_object_set_new(o, "kind", json_string(tx->kind));
	if (tx->ref_id)
		json_object_set_new(o, "ref", json_string(tx->ref_id));
	json_object_set_new(o, "date", json_string(tx->date));
	json_object_set_new(o, "booked_at", json_string(tx->booked_at));
	if (tx->expires_at)
		json_object_set_new(o, "expires_at", json_string(tx->expires_at));
	json_object_set_new(o, "memo", json_string(tx->memo));
	json_object_set_new(o, "meta", json_loads(tx->meta, 0, &jerr));
	for (int i = 0; i < tx->postings_n; i++) {
		char amt[AMOUNT_TEXT_MAX];
		amount_format(tx->postings[i].amount_minor, tx->postings[i].scale, amt,
		              sizeof amt);
		json_array_append_new(ps, json_pack("{s:s,s:s,s:s}", "account",
		                                    tx->postings[i].account, "asset",
		                                    tx->postings[i].asset, "amount", amt));
	}
	json_object_set_new(o, "postings", ps);
	json_object_set_new(o, "hash", json_string(tx->hash_hex));
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	printf("%s\n  %s", first ? "" : ",", text ? text : "null");
	free(text);
	json_decref(o);
}

static int journal_row(void *ctx, const ledger_tx_row *tx)
{
	struct journal_out *jo = ctx;

	if (jo->f == OUT_TEXT)
		journal_text(tx);
	else if (jo->f == OUT_CSV)
		journal_csv(tx);
	else
		journal_json(tx, jo->count == 0);
	jo->count++;
	return 0;
}

int cmd_journal(const cli_ctx *cx, int argc, char **argv)
{
	static const char usage[] =
		"usage: clearbook journal [--from D] [--to D] [--account A]\n"
		"                         [--format text|csv|json]\n"
		"Lists transactions in sequence order with their postings; --account\n"
		"keeps those touching A or an account under it. Dates are YYYY-MM-DD,\n"
		"inclusive.\n";
	const char *from = NULL, *to = NULL, *account = NULL, *format = NULL, *pos[1];
	struct cli_opt opts[] = { { "--from", &from, NULL }, { "--to", &to, NULL },
	                          { "--account", &account, NULL },
	                          { "--format", &format, NULL }, { NULL, NULL, NULL } };
	struct journal_out jo = { OUT_TEXT, 0 };
	lg_error err;
	ledger *lg;
	int n, rc = cli_parse(argc, argv, opts, pos, 0, 0, &n, usage);

	if (rc)
		return rc == CLI_HELP ? 0 : rc;
	if (cli_format(format, &jo.f))
		return LG_EUSAGE;
	rc = cli_open(cx, 0, &lg);
	if (rc)
		return rc;
	lg_error_init(&err);
	if (jo.f == OUT_CSV)
		fputs("seq,id,kind,ref,date,booked_at,memo,account,asset,amount\r\n", stdout);
	if (jo.f == OUT_JSON)
		fputs("[", stdout);
	rc = ledger_journal(lg, from, to, account, journal_row, &jo, &err);
	if (jo.f == OUT_JSON)
		fputs(jo.count ? "\n]\n" : "]\n", stdout);
	ledger_close(lg);
	return rc ? cli_fail(&err) : 0;
}
