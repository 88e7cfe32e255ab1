/*
 * xapi_validate.c
 *	  The xAPI data rules: what makes a statement, an agent or an activity valid (xAPI 1.0.3
 *	  "Data" part, and 2.0.0 where it differs), and the shapes of the values in them (IRI,
 *	  UUID, language tag, duration). Each check returns NULL when the value is valid, else the
 *	  reason as a sentence fragment: the 400 answer's detail (docs/xapi.md).
 *
 * This is the one home of those rules: SQL reaches them as lms.xapi_statement_error,
 * lms.xapi_agent_error, lms.xapi_is_iri, lms.xapi_is_uuid, lms.xapi_is_language and
 * lms.xapi_is_duration (extension/sql/87_xapi_validate.sql). A date-time's rule stays in SQL
 * (lms.xapi_timestamp, which also reads the filters' since and until) and is called from here.
 *
 * The walk reads the statement's jsonb in place (no copy, no SQL per part; the same rules as SQL
 * functions started an executor for each part of each statement). Order matters: the first rule
 * broken is the one reported, as the checks below are ordered.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "json_out.h"

typedef JsonbValue JV;

/* A regular expression of the rules, compiled once per backend (PostgreSQL's regex cache). */
typedef struct Pattern
{
	const char *src;
	text	   *re;
} Pattern;

static Pattern iri_re = {"^[A-Za-z][A-Za-z0-9+.-]*:[^\\s]*$"};
static Pattern uuid_re = {"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"};
static Pattern language_re = {"^(([A-Za-z]{2,3}(-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(-[0-9A-WY-Za-wy-z](-[A-Za-z0-9]{2,8})+)*(-[xX](-[A-Za-z0-9]{1,8})+)?|[xX](-[A-Za-z0-9]{1,8})+|i-[A-Za-z]+)$"};
static Pattern duration_re = {"^P(?=[0-9T])([0-9]+(\\.[0-9]+)?Y)?([0-9]+(\\.[0-9]+)?M)?([0-9]+(\\.[0-9]+)?D)?(T(?=[0-9])([0-9]+(\\.[0-9]+)?H)?([0-9]+(\\.[0-9]+)?M)?([0-9]+(\\.[0-9]+)?S)?)?$"};
static Pattern weeks_re = {"^P[0-9]+(\\.[0-9]+)?W$"};
static Pattern mbox_re = {"^mailto:[^@\\s:/]+@[^@\\s]+$"};
static Pattern sha1_re = {"^[0-9a-fA-F]{40}$"};
static Pattern sha2_re = {"^[0-9a-fA-F]{56,128}$"};
static Pattern media_type_re = {"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\\s*;.*)?$"};
static Pattern digits_re = {"^[0-9]+$"};
static Pattern version_re = {"^(1\\.0(\\.[0-9]+)?|2\\.0(\\.[0-9]+)?)$"};

static const char *const statement_keys[] = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version", "attachments", NULL};
static const char *const substatement_keys[] = {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments", NULL};
static const char *const agent_keys[] = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", NULL};
static const char *const group_keys[] = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", "member", NULL};
static const char *const account_keys[] = {"homePage", "name", NULL};
static const char *const verb_keys[] = {"id", "display", NULL};
static const char *const activity_keys[] = {"objectType", "id", "definition", NULL};
static const char *const definition_keys[] = {"name", "description", "type", "moreInfo", "extensions", "interactionType", "correctResponsesPattern", "choices", "scale", "source", "target", "steps", NULL};
static const char *const interaction_types[] = {"true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert", "numeric", "other", NULL};
static const char *const component_keys[] = {"id", "description", NULL};
static const char *const statementref_keys[] = {"objectType", "id", NULL};
static const char *const result_keys[] = {"score", "success", "completion", "response", "duration", "extensions", NULL};
static const char *const score_keys[] = {"scaled", "raw", "min", "max", NULL};
static const char *const context_keys_1[] = {"registration", "instructor", "team", "contextActivities", "revision", "platform", "language", "statement", "extensions", NULL};
static const char *const context_keys_2[] = {"registration", "instructor", "team", "contextActivities", "contextAgents", "contextGroups", "revision", "platform", "language", "statement", "extensions", NULL};
static const char *const context_activity_keys[] = {"parent", "grouping", "category", "other", NULL};
static const char *const attachment_keys[] = {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl", NULL};

/*
 * Does s (len bytes) match the pattern? The same engine and collation as SQL's `~`.
 */
static bool
matches(Pattern *p, const char *s, int len)
{
	if (p->re == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		p->re = cstring_to_text(p->src);
		MemoryContextSwitchTo(old);
	}
	return RE_compile_and_execute(p->re, (char *) s, len, REG_ADVANCED, DEFAULT_COLLATION_OID, 0, NULL);
}

/* Kinds of a value; NULL is an absent value (SQL's NULL from ->), never JSON null. */
static bool
is_object(const JV *v)
{
	return v && v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(const JV *v)
{
	return v && v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

static bool
is_string(const JV *v)
{
	return v && v->type == jbvString;
}

/* v's member `key`, or NULL when v is not an object or has no such key. */
static JV *
get(const JV *v, const char *key)
{
	if (!is_object(v))
		return NULL;
	return getKeyJsonValueFromContainer(v->val.binary.data, key, strlen(key), NULL);
}

/* v's text as SQL's ->> gives it: NULL for absent or JSON null, a container as JSON. */
static char *
text_of(const JV *v)
{
	return v == NULL ? NULL : lms_jsonb_value_text(v);
}

/* Is v a string equal to s? */
static bool
string_is(const JV *v, const char *s)
{
	return is_string(v) && v->val.string.len == strlen(s) && memcmp(v->val.string.val, s, v->val.string.len) == 0;
}

static bool
string_matches(const JV *v, Pattern *p)
{
	return is_string(v) && matches(p, v->val.string.val, v->val.string.len);
}

static bool
in_list(const char *s, int len, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == len && memcmp(*list, s, len) == 0)
			return true;
	return false;
}

/* The object's members in storage order (jsonb_each's): false at the end. */
typedef struct Members
{
	JsonbIterator *it;
	JV			key;
	JV			value;
} Members;

static void
members_start(Members *m, const JV *obj)
{
	m->it = JsonbIteratorInit(obj->val.binary.data);
	(void) JsonbIteratorNext(&m->it, &m->key, true);	/* WJB_BEGIN_OBJECT */
}

static bool
members_next(Members *m)
{
	if (JsonbIteratorNext(&m->it, &m->key, true) != WJB_KEY)
		return false;
	(void) JsonbIteratorNext(&m->it, &m->value, true);
	return true;
}

/* An array's elements in order: false at the end. */
typedef struct Elements
{
	JsonbIterator *it;
	JV			elem;
} Elements;

static void
elements_start(Elements *e, const JV *arr)
{
	e->it = JsonbIteratorInit(arr->val.binary.data);
	(void) JsonbIteratorNext(&e->it, &e->elem, true);	/* WJB_BEGIN_ARRAY */
}

static bool
elements_next(Elements *e)
{
	return JsonbIteratorNext(&e->it, &e->elem, true) == WJB_ELEM;
}

static int
elements_count(const JV *arr)
{
	return JsonContainerSize(arr->val.binary.data);
}

/*
 * The first key of obj that is not allowed or whose value is null, else NULL (also for a
 * value that is not an object: its callers check the kind first).
 */
static char *
bad_key(const JV *obj, const char *const *allowed)
{
	Members		m;

	if (!is_object(obj))
		return NULL;
	members_start(&m, obj);
	while (members_next(&m))
		if (!in_list(m.key.val.string.val, m.key.val.string.len, allowed) || m.value.type == jbvNull)
			return pnstrdup(m.key.val.string.val, m.key.val.string.len);
	return NULL;
}

/* An IRI/IRL: an absolute reference with a scheme and no white space. */
static bool
is_iri(const JV *v)
{
	return string_matches(v, &iri_re);
}

static bool
is_uuid_text(const char *s)
{
	return s && matches(&uuid_re, s, strlen(s));
}

/* An RFC 5646 language tag (the shape, not the registry). */
static bool
is_language(const char *s, int len)
{
	return matches(&language_re, s, len);
}

/* An ISO 8601 duration (PnYnMnDTnHnMnS with at least one part, or PnW alone). */
static bool
is_duration(const JV *v)
{
	return string_matches(v, &duration_re) || string_matches(v, &weeks_re);
}

/* A date-time by SQL's rule (lms.xapi_timestamp is not NULL for it). */
static bool
is_timestamp(const JV *v)
{
	Oid			argtypes[1] = {JSONBOID};
	Oid			fn = LookupFuncName(list_make2(makeString("lms"), makeString("xapi_timestamp")), 1, argtypes, false);
	FmgrInfo	flinfo;

	LOCAL_FCINFO(fcinfo, 1);

	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = JsonbPGetDatum(JsonbValueToJsonb((JV *) v));
	fcinfo->args[0].isnull = false;
	(void) FunctionCallInvoke(fcinfo);
	return !fcinfo->isnull;
}

static int
numeric_compare(const JV *a, const JV *b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a->val.numeric), NumericGetDatum(b->val.numeric)));
}

/* A language map: an object of language tag -> string. */
static char *
langmap_error(const JV *m, const char *field)
{
	Members		it;

	if (m == NULL)
		return NULL;
	if (!is_object(m))
		return psprintf("%s must be a language map", field);
	members_start(&it, m);
	while (members_next(&it))
		if (!is_language(it.key.val.string.val, it.key.val.string.len) || it.value.type != jbvString)
			return psprintf("%s has an invalid language tag or a value that is not a string: %.*s",
							field, it.key.val.string.len, it.key.val.string.val);
	return NULL;
}

/* Extensions: an object whose keys are IRIs (values are free, null included). */
static char *
extensions_error(const JV *x, const char *field)
{
	Members		it;

	if (x == NULL)
		return NULL;
	if (!is_object(x))
		return psprintf("%s must be an object", field);
	members_start(&it, x);
	while (members_next(&it))
		if (!is_iri(&it.key))
			return psprintf("%s keys must be IRIs: %.*s", field, it.key.val.string.len, it.key.val.string.val);
	return NULL;
}

/*
 * An Agent (group_ok false) or an Agent or Group (group_ok true), with exactly one inverse
 * functional identifier (an anonymous Group may have none but then lists its members).
 */
static char *
agent_error(const JV *a, const char *field, bool group_ok)
{
	char	   *ot;
	bool		group;
	char	   *k;
	JV		   *account;
	JV		   *members;
	int			n;

	if (!is_object(a))
		return psprintf("%s must be an object", field);
	ot = text_of(get(a, "objectType"));
	group = ot && strcmp(ot, "Group") == 0;
	if ((ot && strcmp(ot, "Agent") != 0 && !group) || (group && !group_ok))
		return psprintf("%s has an invalid objectType", field);
	k = bad_key(a, group ? group_keys : agent_keys);
	if (k)
		return psprintf("%s has an unknown or null property: %s", field, k);
	if (get(a, "name") && !is_string(get(a, "name")))
		return psprintf("%s.name must be a string", field);
	n = (get(a, "mbox") != NULL) + (get(a, "mbox_sha1sum") != NULL) + (get(a, "openid") != NULL) + (get(a, "account") != NULL);
	if (n > 1)
		return psprintf("%s has more than one inverse functional identifier", field);
	members = get(a, "member");
	if (n == 0 && !(group && members))
		return psprintf("%s needs exactly one of mbox, mbox_sha1sum, openid, account", field);
	if (get(a, "mbox") && !string_matches(get(a, "mbox"), &mbox_re))
		return psprintf("%s.mbox must be a mailto IRI", field);
	if (get(a, "mbox_sha1sum") && !string_matches(get(a, "mbox_sha1sum"), &sha1_re))
		return psprintf("%s.mbox_sha1sum must be a SHA-1 hex digest", field);
	if (get(a, "openid") && !is_iri(get(a, "openid")))
		return psprintf("%s.openid must be a URI", field);
	account = get(a, "account");
	if (account && (!is_object(account) || bad_key(account, account_keys)
					|| !is_iri(get(account, "homePage")) || !is_string(get(account, "name"))))
		return psprintf("%s.account must be {homePage (IRL), name (string)}", field);
	if (group && members)
	{
		Elements	e;
		char	   *member_field;

		if (!is_array(members))
			return psprintf("%s.member must be an array", field);
		member_field = psprintf("%s.member", field);
		elements_start(&e, members);
		while (elements_next(&e))
		{
			char	   *err = agent_error(&e.elem, member_field, false);

			if (err)
				return err;
		}
	}
	return NULL;
}

/* One interaction component list (choices, scale, source, target, steps). */
static char *
components_error(const JV *c, const char *field)
{
	Elements	e;
	List	   *ids = NIL;

	if (c == NULL)
		return NULL;
	if (!is_array(c))
		return psprintf("%s must be an array", field);
	elements_start(&e, c);
	while (elements_next(&e))
	{
		JV		   *id = get(&e.elem, "id");

		if (!is_object(&e.elem) || bad_key(&e.elem, component_keys) || !is_string(id)
			|| langmap_error(get(&e.elem, "description"), field))
			return psprintf("%s items must be {id (string), description (language map)}", field);
		ids = lappend(ids, text_of(id));
	}
	for (int i = 0; i < list_length(ids); i++)
		for (int j = i + 1; j < list_length(ids); j++)
			if (strcmp(list_nth(ids, i), list_nth(ids, j)) == 0)
				return psprintf("%s ids must be unique", field);
	return NULL;
}

/* An interaction type's component lists: which of them it may have. */
static bool
component_used_by(const char *comp, const char *it)
{
	if (strcmp(comp, "choices") == 0)
		return strcmp(it, "choice") == 0 || strcmp(it, "sequencing") == 0;
	if (strcmp(comp, "scale") == 0)
		return strcmp(it, "likert") == 0;
	if (strcmp(comp, "source") == 0 || strcmp(comp, "target") == 0)
		return strcmp(it, "matching") == 0;
	return strcmp(it, "performance") == 0;	/* steps */
}

/* An Activity's definition. */
static char *
definition_error(const JV *d, const char *field)
{
	static const char *const comps[] = {"choices", "scale", "source", "target", "steps"};
	char	   *k;
	char	   *err;
	JV		   *itv = get(d, "interactionType");
	char	   *it = text_of(itv);
	JV		   *crp = get(d, "correctResponsesPattern");

	if (!is_object(d))
		return psprintf("%s.definition must be an object", field);
	k = bad_key(d, definition_keys);
	if (k)
		return psprintf("%s.definition has an unknown or null property: %s", field, k);
	if ((err = langmap_error(get(d, "name"), psprintf("%s.definition.name", field))) != NULL
		|| (err = langmap_error(get(d, "description"), psprintf("%s.definition.description", field))) != NULL
		|| (err = extensions_error(get(d, "extensions"), psprintf("%s.definition.extensions", field))) != NULL)
		return err;
	if (get(d, "type") && !is_iri(get(d, "type")))
		return psprintf("%s.definition.type must be an IRI", field);
	if (get(d, "moreInfo") && !is_iri(get(d, "moreInfo")))
		return psprintf("%s.definition.moreInfo must be an IRL", field);
	if (itv && (!is_string(itv) || !in_list(it, strlen(it), interaction_types)))
		return psprintf("%s.definition.interactionType is not an interaction type", field);
	if (crp)
	{
		Elements	e;

		if (it == NULL)
			return psprintf("%s.definition.correctResponsesPattern needs an interactionType", field);
		if (!is_array(crp))
			return psprintf("%s.definition.correctResponsesPattern must be an array of strings", field);
		elements_start(&e, crp);
		while (elements_next(&e))
			if (e.elem.type != jbvString)
				return psprintf("%s.definition.correctResponsesPattern must be an array of strings", field);
	}
	for (int i = 0; i < lengthof(comps); i++)
	{
		if (!get(d, comps[i]))
			continue;
		if (it == NULL)
			return psprintf("%s.definition.%s needs an interactionType", field, comps[i]);
		if (!component_used_by(comps[i], it))
			return psprintf("%s.definition.%s is not used by interactionType %s", field, comps[i], it);
		err = components_error(get(d, comps[i]), psprintf("%s.definition.%s", field, comps[i]));
		if (err)
			return err;
	}
	return NULL;
}

/* An Activity: {objectType?, id (IRI), definition?}. */
static char *
activity_error(const JV *a, const char *field)
{
	char	   *k;
	JV		   *d;

	if (!is_object(a))
		return psprintf("%s must be an object", field);
	k = bad_key(a, activity_keys);
	if (k)
		return psprintf("%s has an unknown or null property: %s", field, k);
	if (get(a, "objectType") && !string_is(get(a, "objectType"), "Activity"))
		return psprintf("%s.objectType must be Activity", field);
	if (!is_iri(get(a, "id")))
		return psprintf("%s.id must be an IRI", field);
	d = get(a, "definition");
	return d ? definition_error(d, field) : NULL;
}

/* A StatementRef: {objectType: "StatementRef", id: UUID}. */
static char *
statementref_error(const JV *o, const char *field)
{
	if (!is_object(o))
		return psprintf("%s must be an object", field);
	if (bad_key(o, statementref_keys) || !string_is(get(o, "objectType"), "StatementRef")
		|| !is_string(get(o, "id")) || !is_uuid_text(text_of(get(o, "id"))))
		return psprintf("%s must be {objectType: StatementRef, id: UUID}", field);
	return NULL;
}

/* Result: score, success, completion, response, duration, extensions. */
static char *
result_error(const JV *r)
{
	char	   *k;
	JV		   *s;
	JV		   *v;
	JV		   *scaled, *raw, *min, *max;
	Members		it;

	if (r == NULL)
		return NULL;
	if (!is_object(r))
		return "result must be an object";
	k = bad_key(r, result_keys);
	if (k)
		return psprintf("result has an unknown or null property: %s", k);
	if ((v = get(r, "success")) && v->type != jbvBool)
		return "result.success must be a boolean";
	if ((v = get(r, "completion")) && v->type != jbvBool)
		return "result.completion must be a boolean";
	if ((v = get(r, "response")) && !is_string(v))
		return "result.response must be a string";
	if ((v = get(r, "duration")) && !is_duration(v))
		return "result.duration must be an ISO 8601 duration";
	k = extensions_error(get(r, "extensions"), "result.extensions");
	if (k)
		return k;
	s = get(r, "score");
	if (s == NULL)
		return NULL;
	if (!is_object(s))
		return "result.score must be an object";
	k = bad_key(s, score_keys);
	if (k)
		return psprintf("result.score has an unknown or null property: %s", k);
	members_start(&it, s);
	while (members_next(&it))
		if (it.value.type != jbvNumeric)
			return "result.score values must be numbers";
	scaled = get(s, "scaled");
	raw = get(s, "raw");
	min = get(s, "min");
	max = get(s, "max");
	if (scaled)
	{
		JV			lo = {.type = jbvNumeric, .val.numeric = int64_to_numeric(-1)};
		JV			hi = {.type = jbvNumeric, .val.numeric = int64_to_numeric(1)};

		if (numeric_compare(scaled, &lo) < 0 || numeric_compare(scaled, &hi) > 0)
			return "result.score.scaled must be between -1 and 1";
	}
	if (min && max && numeric_compare(min, max) >= 0)
		return "result.score.min must be less than max";
	if (raw && min && numeric_compare(raw, min) < 0)
		return "result.score.raw must not be below min";
	if (raw && max && numeric_compare(raw, max) > 0)
		return "result.score.raw must not be above max";
	return NULL;
}

/*
 * xAPI 2.0 context.contextAgents / context.contextGroups: arrays of {objectType, agent|group,
 * relevantTypes?}; a contextAgent holds an Agent, a contextGroup a Group.
 */
static char *
context_actors_error(const JV *list, const char *object_type, const char *member)
{
	char	   *field = psprintf("context.%ss", object_type);
	const char *const keys[] = {"objectType", member, "relevantTypes", NULL};
	bool		group = strcmp(member, "group") == 0;
	Elements	e;

	if (list == NULL)
		return NULL;
	if (!is_array(list))
		return psprintf("%s must be an array", field);
	elements_start(&e, list);
	while (elements_next(&e))
	{
		JV		   *x = &e.elem;
		JV		   *types;
		char	   *err;

		if (!is_object(x) || bad_key(x, keys) || !string_is(get(x, "objectType"), object_type)
			|| (group && !string_is(get(get(x, "group"), "objectType"), "Group")))
			return psprintf("%s items must be %s objects", field, object_type);
		err = agent_error(get(x, member), psprintf("%s.%s", field, member), group);
		if (err)
			return err;
		types = get(x, "relevantTypes");
		if (types)
		{
			Elements	t;
			bool		ok = is_array(types) && elements_count(types) > 0;

			if (ok)
			{
				elements_start(&t, types);
				while (ok && elements_next(&t))
					ok = is_iri(&t.elem);
			}
			if (!ok)
				return psprintf("%s.relevantTypes must be a non-empty array of IRIs", field);
		}
	}
	return NULL;
}

/* context.contextActivities: {parent, grouping, category, other}, each an Activity or a list. */
static char *
context_activities_error(const JV *ca)
{
	Members		it;
	char	   *k;

	if (!is_object(ca))
		return "context.contextActivities must be an object";
	k = bad_key(ca, context_activity_keys);
	if (k)
		return psprintf("context.contextActivities has an unknown or null property: %s", k);
	members_start(&it, ca);
	while (members_next(&it))
	{
		char	   *field = psprintf("context.contextActivities.%.*s", it.key.val.string.len, it.key.val.string.val);
		char	   *err = NULL;

		if (is_array(&it.value))
		{
			Elements	e;

			elements_start(&e, &it.value);
			while (err == NULL && elements_next(&e))
				err = activity_error(&e.elem, field);
		}
		else
			err = activity_error(&it.value, field);
		if (err)
			return err;
	}
	return NULL;
}

/* Context; object_is_activity: revision and platform are only allowed on an Activity object. */
static char *
context_error(const JV *c, bool object_is_activity, bool v2)
{
	char	   *k;
	char	   *err;
	JV		   *v;

	if (c == NULL)
		return NULL;
	if (!is_object(c))
		return "context must be an object";
	k = bad_key(c, v2 ? context_keys_2 : context_keys_1);
	if (k)
		return psprintf("context has an unknown or null property: %s", k);
	if ((v = get(c, "registration")) && (!is_string(v) || !is_uuid_text(text_of(v))))
		return "context.registration must be a UUID";
	if ((v = get(c, "instructor")) && (err = agent_error(v, "context.instructor", true)) != NULL)
		return err;
	if ((v = get(c, "team")))
	{
		if (!string_is(get(v, "objectType"), "Group"))
			return "context.team must be a Group";
		if ((err = agent_error(v, "context.team", true)) != NULL)
			return err;
	}
	if ((v = get(c, "contextActivities")) && (err = context_activities_error(v)) != NULL)
		return err;
	if ((v = get(c, "revision")) && (!is_string(v) || !object_is_activity))
		return "context.revision must be a string and is only allowed when the object is an Activity";
	if ((v = get(c, "platform")) && (!is_string(v) || !object_is_activity))
		return "context.platform must be a string and is only allowed when the object is an Activity";
	if ((v = get(c, "language")) && (!is_string(v) || !is_language(v->val.string.val, v->val.string.len)))
		return "context.language must be a language tag";
	if ((v = get(c, "statement")) && (err = statementref_error(v, "context.statement")) != NULL)
		return err;
	if ((err = context_actors_error(get(c, "contextAgents"), "contextAgent", "agent")) != NULL
		|| (err = context_actors_error(get(c, "contextGroups"), "contextGroup", "group")) != NULL)
		return err;
	return extensions_error(get(c, "extensions"), "context.extensions");
}

/* Attachments: [{usageType, display, description?, contentType, length, sha2, fileUrl?}]. */
static char *
attachments_error(const JV *a)
{
	Elements	e;

	if (a == NULL)
		return NULL;
	if (!is_array(a))
		return "attachments must be an array";
	elements_start(&e, a);
	while (elements_next(&e))
	{
		JV		   *x = &e.elem;
		char	   *k;
		JV		   *len;

		if (!is_object(x))
			return "attachments items must be objects";
		k = bad_key(x, attachment_keys);
		if (k)
			return psprintf("attachment has an unknown or null property: %s", k);
		if (!is_iri(get(x, "usageType")))
			return "attachment.usageType must be an IRI";
		if (!get(x, "display"))
			return "attachment.display is required";
		if ((k = langmap_error(get(x, "display"), "attachment.display")) != NULL
			|| (k = langmap_error(get(x, "description"), "attachment.description")) != NULL)
			return k;
		if (!string_matches(get(x, "contentType"), &media_type_re))
			return "attachment.contentType must be an Internet media type";
		len = get(x, "length");
		if (len == NULL || len->type != jbvNumeric)
			return "attachment.length must be a non-negative integer";
		k = text_of(len);
		if (!matches(&digits_re, k, strlen(k)))
			return "attachment.length must be a non-negative integer";
		if (!string_matches(get(x, "sha2"), &sha2_re))
			return "attachment.sha2 must be a SHA-2 hex digest";
		if (get(x, "fileUrl") && !is_iri(get(x, "fileUrl")))
			return "attachment.fileUrl must be an IRL";
	}
	return NULL;
}

/*
 * A whole statement (sub: a SubStatement, which has no id, stored, version or authority and
 * may not nest). ver: the X-Experience-API-Version of the request ("1.0.x" or "2.0.x").
 */
static char *
statement_error(const JV *s, const char *ver, bool sub)
{
	JV		   *o = get(s, "object");
	char	   *ot = text_of(get(o, "objectType"));
	JV		   *verb = get(s, "verb");
	JV		   *v;
	char	   *k;
	char	   *err;

	if (!is_object(s))
		return "a statement must be a JSON object";
	k = bad_key(s, sub ? substatement_keys : statement_keys);
	if (k)
		return psprintf("%s has an unknown or null property: %s", sub ? "sub-statement" : "statement", k);
	if ((v = get(s, "id")) && (!is_string(v) || !is_uuid_text(text_of(v))))
		return "id must be a UUID";
	if (!get(s, "actor") || !verb || !o)
		return "actor, verb and object are required";
	if ((err = agent_error(get(s, "actor"), "actor", true)) != NULL)
		return err;
	if (!is_object(verb) || bad_key(verb, verb_keys))
		return "verb must be {id, display?}";
	if (!is_iri(get(verb, "id")))
		return "verb.id must be an IRI";
	if ((err = langmap_error(get(verb, "display"), "verb.display")) != NULL)
		return err;
	if (!is_object(o))
		return "object must be an object";
	if (ot == NULL || strcmp(ot, "Activity") == 0)
		err = activity_error(o, "object");
	else if (strcmp(ot, "Agent") == 0 || strcmp(ot, "Group") == 0)
		err = agent_error(o, "object", true);
	else if (strcmp(ot, "StatementRef") == 0)
		err = statementref_error(o, "object");
	else if (strcmp(ot, "SubStatement") == 0)
		err = sub ? "a sub-statement may not contain a sub-statement" : statement_error(o, ver, true);
	else
		err = "object.objectType is not one of Activity, Agent, Group, StatementRef, SubStatement";
	if (err)
		return err;
	if (string_is(get(verb, "id"), "http://adlnet.gov/expapi/verbs/voided") && !sub
		&& (ot == NULL || strcmp(ot, "StatementRef") != 0))
		return "a voiding statement must have a StatementRef object";
	if ((err = result_error(get(s, "result"))) != NULL
		|| (err = context_error(get(s, "context"), ot == NULL || strcmp(ot, "Activity") == 0, strncmp(ver, "2.", 2) == 0)) != NULL
		|| (err = attachments_error(get(s, "attachments"))) != NULL)
		return err;
	if ((v = get(s, "timestamp")) && !is_timestamp(v))
		return "timestamp must be an ISO 8601 date-time with a time zone";
	if (sub)
		return NULL;
	if ((v = get(s, "stored")) && !is_timestamp(v))
		return "stored must be an ISO 8601 date-time";
	if ((v = get(s, "version")) && (!string_matches(v, &version_re)
									|| (strncmp(ver, "1.", 2) == 0 && v->val.string.len >= 2 && strncmp(v->val.string.val, "2.", 2) == 0)))
		return "version must be a supported xAPI version";
	if ((v = get(s, "authority")))
	{
		JV		   *members = get(v, "member");

		if ((err = agent_error(v, "authority", true)) != NULL)
			return err;
		if (string_is(get(v, "objectType"), "Group")
			&& (get(v, "mbox") || get(v, "mbox_sha1sum") || get(v, "openid") || get(v, "account")
				|| (members ? elements_count(members) : 0) != 2))
			return "an authority Group must be an anonymous OAuth pair of two Agents";
	}
	return NULL;
}

/* The jsonb argument as a value (NULL for SQL NULL). */
static JV *
arg_value(FunctionCallInfo fcinfo, int n)
{
	Jsonb	   *jb;
	JV		   *v;

	if (PG_ARGISNULL(n))
		return NULL;
	jb = PG_GETARG_JSONB_P(n);
	v = palloc(sizeof(JV));
	if (JB_ROOT_IS_SCALAR(jb))
		(void) JsonbExtractScalar(&jb->root, v);
	else
	{
		v->type = jbvBinary;
		v->val.binary.data = &jb->root;
		v->val.binary.len = VARSIZE(jb) - VARHDRSZ;
	}
	return v;
}

static Datum
text_or_null(FunctionCallInfo fcinfo, const char *s)
{
	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(s));
}

PG_FUNCTION_INFO_V1(lms_xapi_statement_error);

/*
 * lms.xapi_statement_error(s jsonb, ver text, sub boolean DEFAULT false) -> the reason a
 * statement is refused, or NULL.
 */
Datum
lms_xapi_statement_error(PG_FUNCTION_ARGS)
{
	const char *ver = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		sub = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);

	return text_or_null(fcinfo, statement_error(arg_value(fcinfo, 0), ver, sub));
}

PG_FUNCTION_INFO_V1(lms_xapi_agent_error);

/*
 * lms.xapi_agent_error(a jsonb, field text, group_ok boolean DEFAULT true) -> the reason an
 * Agent (or Group) is refused, or NULL.
 */
Datum
lms_xapi_agent_error(PG_FUNCTION_ARGS)
{
	const char *field = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		group_ok = PG_ARGISNULL(2) || PG_GETARG_BOOL(2);

	return text_or_null(fcinfo, agent_error(arg_value(fcinfo, 0), field, group_ok));
}

PG_FUNCTION_INFO_V1(lms_xapi_is_iri);

/* lms.xapi_is_iri(v jsonb) -> is v a string that is an IRI (false for NULL). */
Datum
lms_xapi_is_iri(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(is_iri(arg_value(fcinfo, 0)));
}

PG_FUNCTION_INFO_V1(lms_xapi_is_uuid);

/* lms.xapi_is_uuid(v text) -> is v a UUID in its standard string form (false for NULL). */
Datum
lms_xapi_is_uuid(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!PG_ARGISNULL(0) && is_uuid_text(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

PG_FUNCTION_INFO_V1(lms_xapi_is_language);

/* lms.xapi_is_language(v text) -> is v an RFC 5646 language tag (false for NULL). */
Datum
lms_xapi_is_language(PG_FUNCTION_ARGS)
{
	text	   *t;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	t = PG_GETARG_TEXT_PP(0);
	PG_RETURN_BOOL(is_language(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}

PG_FUNCTION_INFO_V1(lms_xapi_is_duration);

/* lms.xapi_is_duration(v jsonb) -> is v a string that is an ISO 8601 duration (false for NULL). */
Datum
lms_xapi_is_duration(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(is_duration(arg_value(fcinfo, 0)));
}
