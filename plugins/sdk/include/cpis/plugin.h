/*
 * cpis/plugin.h: the whole contract between cpis-engine and its plugins (adapters and
 * notification sinks). Plain C (C99 and later, and C++), so a plugin may be written in C or
 * in C++ (see cpis/plugin.hpp), built with any compiler, and loaded by any engine that
 * provides the same ABI major version and the same or a later minor version.
 *
 * Rules of the boundary
 *   - Only C crosses it: fixed-width integers, enums with explicit values (all 32 bits wide),
 *     {data, size} text spans, opaque handles and function pointers. No exceptions, no C++
 *     types, no memory handed over: each side frees what it allocates.
 *   - A plugin exports exactly one symbol, cpis_plugin_entry(). The engine opens the library
 *     once at start-up (dlopen RTLD_NOW | RTLD_LOCAL), checks the descriptor and never
 *     unloads it; a new plugin version means a restart.
 *   - Text is UTF-8 and never NUL-terminated unless said so. Text the host returns stays valid
 *     until the plugin function that received the handle returns; copy what you keep.
 *
 * Versions
 *   CPIS_PLUGIN_ABI_MAJOR changes when anything existing changes meaning, type or place:
 *   every plugin must be rebuilt. CPIS_PLUGIN_ABI_MINOR changes when something is appended: a
 *   field at the end of cpis_plugin_descriptor or cpis_host_api, a new enum value, a new
 *   attendance or outcome field. The engine refuses a plugin built for another major version
 *   or for a newer minor version than its own; an older minor loads, and the engine reads
 *   only the descriptor fields that plugin's struct_size covers. cpis_config_key never
 *   changes within a major version (it is an array element). A test of the engine checks a
 *   hash of this file, so no edit slips in without a version bump.
 */
#ifndef CPIS_PLUGIN_H
#define CPIS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define CPIS_PLUGIN_ABI_MAJOR 1
#define CPIS_PLUGIN_ABI_MINOR 2

#if defined(__GNUC__) || defined(__clang__)
#define CPIS_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define CPIS_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- values that cross ------------------------------------------------------------------ */

/* UTF-8 text: `size` bytes from `data`; data may be NULL when size is 0. */
typedef struct cpis_str {
  const char* data;
  size_t size;
} cpis_str;

/* A list of texts, valid as long as the texts in it. */
typedef struct cpis_str_list {
  const cpis_str* items;
  size_t count;
} cpis_str_list;

/* Opaque handles. cpis_instance is the plugin's own (the engine only passes it back); every
 * other handle belongs to the engine and is valid only for the call that passed it in,
 * except cpis_host_context, which lives as long as the plugin instance. */
typedef struct cpis_instance cpis_instance;
typedef struct cpis_host_context cpis_host_context;
typedef struct cpis_config cpis_config;
typedef struct cpis_message cpis_message;
typedef struct cpis_attendance cpis_attendance;
typedef struct cpis_outcome cpis_outcome;
typedef struct cpis_alert_writer cpis_alert_writer;
typedef struct cpis_notification cpis_notification;
typedef struct cpis_error cpis_error;

typedef enum cpis_plugin_kind {
  CPIS_KIND_ADAPTER = 1, /* maps an EPR's messages to attendances, composes its alerts */
  CPIS_KIND_SINK = 2,    /* delivers notifications (the dispatcher retries) */
  CPIS_KIND_FORCE_32BIT = 0x7fffffff
} cpis_plugin_kind;

/* What adapt() (and compose_alerts()) answer. */
typedef enum cpis_status {
  CPIS_OK = 0,                /* adapt: the attendance is filled in; compose_alerts: written */
  CPIS_NOT_AN_ATTENDANCE = 1, /* a valid answer: nothing to check (reason in the error) */
  CPIS_DATA_ERROR = 2,        /* the message is wrong: AE with the error's code and location */
  CPIS_FAILED = 3,            /* the plugin failed (a bug): AE with ERR 207, recorded */
  CPIS_STATUS_FORCE_32BIT = 0x7fffffff
} cpis_status;

/* What a sink's deliver() answers. */
typedef enum cpis_delivery {
  CPIS_DELIVERY_OK = 0,    /* delivered: the notification is done */
  CPIS_DELIVERY_RETRY = 1, /* not now (peer down, time-out): the dispatcher tries again later */
  CPIS_DELIVERY_ERROR = 2, /* never (refused, misconfigured): dead-lettered for a person */
  CPIS_DELIVERY_FORCE_32BIT = 0x7fffffff
} cpis_delivery;

/* What the engine's services answer. */
typedef enum cpis_host_result {
  CPIS_HOST_OK = 0,
  CPIS_HOST_ABSENT = 1,       /* nothing there (the text given back is empty) */
  CPIS_HOST_BAD_ARGUMENT = 2, /* a bad path, field, index, key or value (a plugin bug, or bad data) */
  CPIS_HOST_READ_ONLY = 3,    /* the engine did not open this for writing */
  CPIS_HOST_UNSUPPORTED = 4,  /* this engine cannot do that here (e.g. no standard alert encoder) */
  CPIS_HOST_FAILED = 5,       /* the engine failed (out of memory) */
  CPIS_HOST_RESULT_FORCE_32BIT = 0x7fffffff
} cpis_host_result;

/* HL7 table 0357 codes a plugin may report (error_set). */
typedef enum cpis_hl7_error {
  CPIS_HL7_NONE = 0,                     /* with CPIS_NOT_AN_ATTENDANCE: just a reason */
  CPIS_HL7_SEGMENT_SEQUENCE = 100,       /* segment sequence error */
  CPIS_HL7_REQUIRED_FIELD_MISSING = 101, /* required field missing */
  CPIS_HL7_DATA_TYPE = 102,              /* data type error */
  CPIS_HL7_TABLE_VALUE = 103,            /* table value not found */
  CPIS_HL7_VALUE_TOO_LONG = 104,         /* value too long */
  CPIS_HL7_INTERNAL_ERROR = 207,         /* with CPIS_FAILED */
  CPIS_HL7_ERROR_FORCE_32BIT = 0x7fffffff
} cpis_hl7_error;

typedef enum cpis_log_level {
  CPIS_LOG_DEBUG = 1,
  CPIS_LOG_INFO = 2,
  CPIS_LOG_WARNING = 3,
  CPIS_LOG_ERROR = 4,
  CPIS_LOG_LEVEL_FORCE_32BIT = 0x7fffffff
} cpis_log_level;

/* What a path names in a message (HL7: an empty field is "not sent", `""` is an explicit null). */
typedef enum cpis_presence {
  CPIS_PRESENCE_ABSENT = 0,
  CPIS_PRESENCE_NULL = 1,
  CPIS_PRESENCE_VALUED = 2,
  CPIS_PRESENCE_BAD_PATH = 3,
  CPIS_PRESENCE_FORCE_32BIT = 0x7fffffff
} cpis_presence;

/* ---- the attendance an adapter fills in ---------------------------------------------------
 * Every field reads and writes as text. The engine's mapping file has already filled in a
 * draft; the adapter reads it and overwrites what it knows better. Names in brackets are the
 * keys attendance_field_id() accepts. An empty text clears a field. */
typedef enum cpis_attendance_field {
  CPIS_FIELD_UNKNOWN = 0,
  CPIS_FIELD_FEED_ID = 1,                 /* [feed_id] read only */
  CPIS_FIELD_CONTROL_ID = 2,              /* [control_id] MSH-10, read only */
  CPIS_FIELD_TRIGGER_EVENT = 3,           /* [trigger_event] e.g. "A04" */
  CPIS_FIELD_EVENT = 4,                   /* [event] START, UPDATE, END, CANCEL, REOPEN, MERGE,
                                             NOT_AN_ATTENDANCE (never empty) */
  CPIS_FIELD_NHS_NUMBER = 5,              /* [nhs_number] ten digits; written: spaces or dashes allowed,
                                             an invalid number is refused (BAD_ARGUMENT), cleared, and
                                             the reason kept in nhs_number_problem */
  CPIS_FIELD_NHS_NUMBER_PROBLEM = 6,      /* [nhs_number_problem] read only; never the value */
  CPIS_FIELD_NHS_STATUS = 7,              /* [nhs_status] NSTS01..NSTS08; empty = absent */
  CPIS_FIELD_FAMILY_NAME = 8,             /* [family_name] */
  CPIS_FIELD_GIVEN_NAME = 9,              /* [given_name] */
  CPIS_FIELD_BIRTH_DATE = 10,             /* [birth_date] YYYYMMDD */
  CPIS_FIELD_SEX = 11,                    /* [sex] F, M, O, U */
  CPIS_FIELD_PREGNANT = 12,               /* [pregnant] Y or N; empty: unreadable, checked */
  CPIS_FIELD_EXPECTED_DELIVERY_DATE = 13, /* [expected_delivery_date] YYYYMMDD */
  CPIS_FIELD_VISIT_NUMBER = 14,           /* [visit_number] PV1-19: the attendance key */
  CPIS_FIELD_ARRIVED_AT = 15,             /* [arrived_at] HL7 DTM, YYYYMMDD[HH[MM[SS[.S...]]]][+-ZZZZ],
                                             London time without an offset; read back in UTC */
  CPIS_FIELD_LOCATION_KEY = 16,           /* [location_key] the key of the location table */
  CPIS_FIELD_CARE_SETTING = 17,           /* [care_setting] ED, UTC_WIC, ... OUT_OF_SCOPE; empty = unmapped */
  CPIS_FIELD_SITE_ODS_CODE = 18,          /* [site_ods_code] PV1-3.4 */
  CPIS_FIELD_DEPARTMENT = 19,             /* [department] PV1-3.1 */
  CPIS_FIELD_PATIENT_CLASS = 20,          /* [patient_class] PV1-2 */
  CPIS_FIELD_ACCESS_MODE = 21,            /* [access_mode] UNSCHEDULED, SCHEDULED; empty = the feed decides */
  CPIS_FIELD_SCHEDULED_ONLY = 22,         /* [scheduled_only] Y or N: scheduled by nature (A05, A14) */
  CPIS_FIELD_PRIOR_NHS_NUMBER = 23,       /* [prior_nhs_number] MERGE (A40) only: the NHS number of the
                                             record merged away (MRG-1); ten digits, an invalid number
                                             is refused (BAD_ARGUMENT) and cleared */
  CPIS_FIELD_FORCE_32BIT = 0x7fffffff
} cpis_attendance_field;

/* ---- the outcome of a check, read by compose_alerts --------------------------------------
 * outcome_get(outcome, field, index, sub_index, &text). Check fields ignore both indexes;
 * record fields take the record's index (0-based); plan fields the record's and the plan's;
 * access fields the access's. Optional values that are missing give CPIS_HOST_ABSENT.
 * Dates are YYYYMMDD, times HL7 DTM in UTC (YYYYMMDDHHMMSS.SSS+0000). */
typedef enum cpis_outcome_field {
  CPIS_OUTCOME_STATUS = 1,      /* FOUND, NOT_FOUND, CHECK_FAILED, NOT_CHECKED */
  CPIS_OUTCOME_REASON = 2,      /* ZCP-3 code (TIMEOUT, ... DISABLED); absent for FOUND/NOT_FOUND */
  CPIS_OUTCOME_REASON_TEXT = 3, /* human text, never patient data */
  CPIS_OUTCOME_NHS_NUMBER = 4,  /* the number queried (ten digits); absent if none */
  CPIS_OUTCOME_ACCESS_MODE = 5, /* UNSCHEDULED, SCHEDULED; absent for NOT_CHECKED */
  CPIS_OUTCOME_DECIDED_AT = 6,  /* when the outcome was decided */
  CPIS_OUTCOME_CHECK_ID = 7,    /* UUID of the check */
  CPIS_OUTCOME_SOURCE = 8,      /* SPINE, FHIR_API, SIMULATOR */
  /* ABI 1.2: not checked because the NHS number was refused (NHS_NUMBER_INVALID, or a rejected
   * message that held one): the value as the message sent it, any text; absent otherwise.
   * ZCP-13 echoes it where CPIS_OUTCOME_NHS_NUMBER is absent. Never log it. */
  CPIS_OUTCOME_REFUSED_NHS_NUMBER = 9,
  CPIS_RECORD_SUBJECT = 20, /* CHILD, UNBORN */
  CPIS_RECORD_LA_ODS_CODE = 21,
  CPIS_RECORD_LA_NAME = 22,
  CPIS_RECORD_LA_EMERGENCY_PHONE = 23,
  CPIS_RECORD_LA_WORKPLACE_PHONE = 24, /* optional */
  CPIS_PLAN_TYPE = 40,                 /* CPPI, LACI, UCPI */
  CPIS_PLAN_START = 41,                /* YYYYMMDD */
  CPIS_PLAN_END = 42,                  /* YYYYMMDD; absent = open */
  CPIS_PLAN_SNOMED_CODE = 43,
  CPIS_PLAN_DISPLAY_NAME = 44,
  CPIS_ACCESS_AT = 60,
  CPIS_ACCESS_BY_SYSTEM = 61, /* Y (a system query) or N (a person) */
  CPIS_ACCESS_PERSON_NAME = 62,
  CPIS_ACCESS_JOB_ROLE_CODE = 63,
  CPIS_ACCESS_JOB_ROLE_NAME = 64,
  CPIS_ACCESS_ORG_ODS_CODE = 65,
  CPIS_ACCESS_ORG_NAME = 66,
  CPIS_ACCESS_ASID = 67, /* optional */
  CPIS_OUTCOME_FIELD_FORCE_32BIT = 0x7fffffff
} cpis_outcome_field;

/* outcome_count(outcome, list, record_index) */
typedef enum cpis_outcome_list {
  CPIS_LIST_RECORDS = 1,  /* records (one per local authority); record_index ignored */
  CPIS_LIST_PLANS = 2,    /* plans of the record at record_index */
  CPIS_LIST_ACCESSES = 3, /* prior unscheduled accesses, newest first; record_index ignored */
  CPIS_LIST_FORCE_32BIT = 0x7fffffff
} cpis_outcome_list;

/* write_standard_alerts(writer, encoding) */
typedef enum cpis_alert_encoding {
  CPIS_ALERTS_FEED_DEFAULT = 0, /* the encoding the feed is configured with */
  CPIS_ALERTS_ZSEGMENTS = 1,    /* ZCP and ZCA segments */
  CPIS_ALERTS_OBX = 2,          /* OBX segments */
  CPIS_ALERTS_FORCE_32BIT = 0x7fffffff
} cpis_alert_encoding;

/* ---- configuration keys a plugin declares ------------------------------------------------ */

typedef enum cpis_config_type {
  CPIS_CONFIG_STRING = 1,
  CPIS_CONFIG_INT = 2,  /* a signed 64-bit decimal integer */
  CPIS_CONFIG_BOOL = 3, /* true or false */
  CPIS_CONFIG_TYPE_FORCE_32BIT = 0x7fffffff
} cpis_config_type;

typedef struct cpis_config_key {
  const char* name; /* NUL-terminated, [a-z][a-z0-9_]*, unique in the table */
  cpis_config_type type;
  const char* default_value; /* NUL-terminated text of the type; NULL = the key is required */
  const char* description;   /* NUL-terminated, for people; may be NULL */
} cpis_config_key;

/* ---- the engine's services ----------------------------------------------------------------
 * One table per plugin instance, given to create() and valid until destroy() returns. Every
 * function is thread-safe for distinct handles and never throws; log() and log_enabled() take
 * the one shared context and may be called from any number of threads at once. */
typedef struct cpis_host_api {
  uint32_t abi_major, abi_minor, struct_size; /* the engine's; first, and they never move */
  const cpis_host_context* context;           /* pass to log() and log_enabled() */

  /* Logging into the engine's log (logger cpis.plugin.<name>). Never log patient data:
   * no NHS numbers, names, birth dates or message contents; ids, codes and paths only.
   * (The engine masks anything that looks like an NHS number, as a last line of defence.) */
  void (*log)(const cpis_host_context* context, cpis_log_level level, cpis_str text);
  int32_t (*log_enabled)(const cpis_host_context* context, cpis_log_level level);

  /* Reports why a call did not answer CPIS_OK. code: CPIS_HL7_NONE with
   * CPIS_NOT_AN_ATTENDANCE, 100..104 with CPIS_DATA_ERROR, 207 with CPIS_FAILED. location: an
   * HL7 path ("PID-3", "PID-3(2).1") or empty. text: what is wrong, never the value (it
   * reaches ERR segments and logs). BAD_ARGUMENT for another code or a location that is not
   * a path; the error is then left as it was. */
  cpis_host_result (*error_set)(cpis_error* error, uint32_t code, cpis_str location, cpis_str text);

  /* Configuration, during create() only: the values the engine's configuration gave, checked
   * against the plugin's key table, defaults filled in. BAD_ARGUMENT for an undeclared key. */
  cpis_host_result (*config_get)(const cpis_config* config, cpis_str key, cpis_str* value);
  cpis_host_result (*config_get_int)(const cpis_config* config, cpis_str key, int64_t* value);
  cpis_host_result (*config_get_bool)(const cpis_config* config, cpis_str key, int32_t* value);

  /* Messages, read by path (SEG[(n)]-F[(r)][.C[.S]], every number 1-based, `*` for every
   * repetition in message_get_all), with the engine's HL7 v2 semantics: values decoded to
   * UTF-8, a path that stops at a field or component reads its first component or
   * sub-component. message_get: OK when valued, ABSENT when absent or null, BAD_ARGUMENT for
   * a bad path. message_get_all: one text per occurrence, empty ones included. message_raw:
   * the text as sent, undecoded, at exactly the level the path names. */
  cpis_host_result (*message_get)(const cpis_message* message, cpis_str path, cpis_str* value);
  cpis_host_result (*message_get_all)(const cpis_message* message, cpis_str path, cpis_str_list* values);
  cpis_host_result (*message_raw)(const cpis_message* message, cpis_str path, cpis_str* raw);
  cpis_presence (*message_presence)(const cpis_message* message, cpis_str path);
  uint32_t (*message_count)(const cpis_message* message, cpis_str segment_id);
  /* Writing, only where the engine hands over a message it opened for writing (never in
   * adapt()): READ_ONLY otherwise. The value is UTF-8 and is escaped by the engine. */
  int32_t (*message_writable)(const cpis_message* message);
  cpis_host_result (*message_set)(cpis_message* message, cpis_str path, cpis_str value);

  /* The attendance (adapt() only). */
  cpis_host_result (*attendance_get)(const cpis_attendance* attendance, cpis_attendance_field field,
                                     cpis_str* value);
  cpis_host_result (*attendance_set)(cpis_attendance* attendance, cpis_attendance_field field,
                                     cpis_str value);
  cpis_attendance_field (*attendance_field_id)(cpis_str name); /* CPIS_FIELD_UNKNOWN if unknown */

  /* The outcome of the check (compose_alerts() only). */
  uint32_t (*outcome_count)(const cpis_outcome* outcome, cpis_outcome_list list, uint32_t record_index);
  cpis_host_result (*outcome_get)(const cpis_outcome* outcome, cpis_outcome_field field, uint32_t index,
                                  uint32_t sub_index, cpis_str* value);

  /* Alert segments for the acknowledgement (compose_alerts() only), after MSH, MSA and ERR, in
   * the order written. alert_segment appends a segment (three upper-case letters or digits;
   * not MSH, MSA, ERR or a batch segment) and gives its index; alert_field sets one value
   * (field >= 1; repetition, component, sub-component 1-based, 0 meaning 1) as UTF-8 text the
   * engine escapes and writes in the message's character set. write_standard_alerts appends
   * the engine's own encoding of the outcome (UNSUPPORTED when the engine has none here). */
  cpis_host_result (*alert_segment)(cpis_alert_writer* writer, cpis_str segment_id, uint32_t* index);
  cpis_host_result (*alert_field)(cpis_alert_writer* writer, uint32_t segment_index, uint32_t field,
                                  uint32_t repetition, uint32_t component, uint32_t sub_component,
                                  cpis_str value);
  cpis_host_result (*write_standard_alerts)(cpis_alert_writer* writer, cpis_alert_encoding encoding);

  /* A notification (deliver() only): its values by key. The keys are listed with the
   * notification kinds in the engine's documentation. */
  cpis_host_result (*notification_get)(const cpis_notification* notification, cpis_str key, cpis_str* value);
} cpis_host_api;

/* ---- what a plugin provides ---------------------------------------------------------------
 * Threading: create() and destroy() run once each, at start-up and shut-down. adapt(),
 * compose_alerts() and deliver() run on many threads at once on the same instance: keep the
 * instance immutable after create(), or guard what changes. adapt() may run more than once for
 * one received message: a merge (A40) with several PID/MRG groups is adapted once whole, then
 * once per group as a message the engine makes of the segments before the first PID and that
 * group's (same MSH-10). */
typedef struct cpis_plugin_descriptor {
  uint32_t abi_major;   /* CPIS_PLUGIN_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;   /* CPIS_PLUGIN_ABI_MINOR the plugin was built with */
  uint32_t struct_size; /* sizeof(cpis_plugin_descriptor) the plugin was built with */
  cpis_plugin_kind kind;
  const char* name;    /* NUL-terminated, [a-z0-9_]+: "edsys" is libcpis-adapter-edsys.so */
  const char* version; /* NUL-terminated, the plugin's own version, e.g. "1.2.0" */
  const cpis_config_key* config_keys;
  uint32_t config_key_count;

  /* An instance for one configuration; NULL (with error_set text) refuses it and stops the
   * engine's start-up. `host` stays valid until destroy(); `config` only during create(). */
  cpis_instance* (*create)(const cpis_host_api* host, const cpis_config* config, cpis_error* error);
  void (*destroy)(cpis_instance* instance);

  /* Adapters (kind CPIS_KIND_ADAPTER; NULL for sinks). adapt: the message and the draft
   * attendance the feed's mapping file made; answers with a cpis_status. compose_alerts
   * (NULL = the engine's standard alerts in the feed's encoding): writes the alert segments
   * for the outcome; CPIS_OK or CPIS_FAILED (the engine then drops what was written and uses
   * its standard alerts, as it does when what was written carries no status: no ZCP with
   * ZCP-2, no OBX row CPIS-STATUS with its value). */
  cpis_status (*adapt)(const cpis_instance* instance, const cpis_message* message,
                       cpis_attendance* attendance, cpis_error* error);
  cpis_status (*compose_alerts)(const cpis_instance* instance, const cpis_outcome* outcome,
                                cpis_alert_writer* writer, cpis_error* error);

  /* Sinks (kind CPIS_KIND_SINK; NULL for adapters). */
  cpis_delivery (*deliver)(const cpis_instance* instance, const cpis_notification* notification,
                           cpis_error* error);
  /* Fields appended in later minor versions go here. */
} cpis_plugin_descriptor;

/* The one symbol a plugin exports. Called once; the descriptor must stay valid for the
 * process's lifetime (a static). */
CPIS_PLUGIN_EXPORT const cpis_plugin_descriptor* cpis_plugin_entry(void);

#define CPIS_PLUGIN_ENTRY_SYMBOL "cpis_plugin_entry"

#ifdef __cplusplus
}
#endif

#endif /* CPIS_PLUGIN_H */
