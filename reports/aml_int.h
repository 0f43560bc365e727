/*
 * aml_int.h - what reports/aml*.c share and nobody else needs: the alert
 * being stored, the assertion macro and the table helpers.
 */
#ifndef CLEARBOOK_REPORTS_AML_INT_H
#define CLEARBOOK_REPORTS_AML_INT_H

#include "aml.h"

/* Stays on in release builds: a wrong alert is worse than a crash. */
_Noreturn void rpt_aml_assert_fail(const char *what, const char *file, int line);
#define RPT_AML_ASSERT(cond)                                                   \
	((cond) ? (void)0 : rpt_aml_assert_fail(#cond, __FILE__, __LINE__))

/* An alert found by a scan; strings borrowed. */
typedef struct rpt_aml_new_alert {
	const char *key;       /* rule|subject|asset|evidence: the idempotency key */
	const char *rule, *subject, *asset, *day;
	int score;             /* 0..1000 */
	const char *amount;    /* decimal text or "" */
	const char *detail;
	const char *evidence;  /* transaction ids, comma-separated, journal order */
} rpt_aml_new_alert;

/* Creates the alert tables and their append-only triggers if missing;
 * inside ledger_begin/ledger_commit. */
int rpt_aml_schema(ledger *lg, lg_error *err);
/* Inserts an alert unless its key is stored; *added says which. */
int rpt_aml_store_alert(ledger *lg, const rpt_aml_new_alert *a, int *added,
                        lg_error *err);
int rpt_aml_sql_error(ledger *lg, lg_error *err, const char *what);
/* The asset's thresholds, or NULL when the config names none. */
const rpt_aml_asset *rpt_aml_config_asset(const rpt_aml_config *cfg,
                                          const char *code);

#endif
