/* An adapter written in plain C99 against cpis/plugin.h alone: proves the ABI needs no C++.
 *
 * adapt: the NHS number is the PID-3 repetition whose assigning authority (CX-4) is the
 * configured `authority` (default NHS); none is a data error 101 at PID-3. The event comes
 * from MSH-9.2 (A04 starts an attendance; anything else is not one). It also checks that the
 * engine refuses writes to the message it is given.
 * compose_alerts: one segment "ZCP|1|<status>|<reason>" and, when found, one "ZCA|<n>|<org>"
 * per prior access. */
#include <stdlib.h>
#include <string.h>

#include <cpis/plugin.h>

typedef struct c_instance {
  const cpis_host_api* host;
  char authority[32];
} c_instance;

static cpis_str str(const char* text) {
  cpis_str s;
  s.data = text;
  s.size = strlen(text);
  return s;
}

static int equals(cpis_str a, const char* b) {
  return a.size == strlen(b) && memcmp(a.data, b, a.size) == 0;
}

static cpis_instance* create(const cpis_host_api* host, const cpis_config* config, cpis_error* error) {
  cpis_str authority;
  c_instance* self;
  if (host->config_get(config, str("authority"), &authority) != CPIS_HOST_OK || authority.size >= 32) {
    host->error_set(error, CPIS_HL7_INTERNAL_ERROR, str(""), str("authority must be under 32 bytes"));
    return NULL;
  }
  self = (c_instance*)calloc(1, sizeof(c_instance));
  if (self == NULL) return NULL;
  self->host = host;
  memcpy(self->authority, authority.data, authority.size);
  self->authority[authority.size] = '\0';
  host->log(host->context, CPIS_LOG_INFO, str("c_example adapter created"));
  return (cpis_instance*)self;
}

static void destroy(cpis_instance* instance) {
  free(instance);
}

static cpis_status adapt(const cpis_instance* instance, const cpis_message* message,
                         cpis_attendance* attendance, cpis_error* error) {
  const c_instance* self = (const c_instance*)instance;
  const cpis_host_api* host = self->host;
  cpis_str event;
  cpis_str_list ids;
  cpis_str_list authorities;
  size_t i;

  /* The engine must refuse writes to the inbound message. */
  if (host->message_writable(message) != 0 ||
      host->message_set((cpis_message*)message, str("ZZZ-1"), str("x")) != CPIS_HOST_READ_ONLY) {
    host->error_set(error, CPIS_HL7_INTERNAL_ERROR, str(""), str("the inbound message was writable"));
    return CPIS_FAILED;
  }

  if (host->message_get(message, str("MSH-9.2"), &event) != CPIS_HOST_OK || !equals(event, "A04")) {
    host->error_set(error, CPIS_HL7_NONE, str(""), str("only A04 is mapped"));
    return CPIS_NOT_AN_ATTENDANCE;
  }
  if (host->message_get_all(message, str("PID-3(*).1"), &ids) != CPIS_HOST_OK ||
      host->message_get_all(message, str("PID-3(*).4"), &authorities) != CPIS_HOST_OK) {
    return CPIS_FAILED;
  }
  for (i = 0; i < ids.count && i < authorities.count; ++i) {
    if (equals(authorities.items[i], self->authority) && ids.items[i].size > 0) {
      host->attendance_set(attendance, CPIS_FIELD_NHS_NUMBER, ids.items[i]);
      host->attendance_set(attendance, CPIS_FIELD_EVENT, str("START"));
      host->attendance_set(attendance, host->attendance_field_id(str("location_key")), str("c-location"));
      return CPIS_OK;
    }
  }
  host->error_set(error, CPIS_HL7_REQUIRED_FIELD_MISSING, str("PID-3"),
                  str("no identifier with the NHS authority"));
  return CPIS_DATA_ERROR;
}

static cpis_status compose_alerts(const cpis_instance* instance, const cpis_outcome* outcome,
                                  cpis_alert_writer* writer, cpis_error* error) {
  const cpis_host_api* host = ((const c_instance*)instance)->host;
  cpis_str status;
  cpis_str reason;
  cpis_str org;
  uint32_t segment;
  uint32_t n;
  uint32_t a;
  char set_id[12];
  (void)error;
  if (host->outcome_get(outcome, CPIS_OUTCOME_STATUS, 0, 0, &status) != CPIS_HOST_OK) return CPIS_FAILED;
  if (host->alert_segment(writer, str("ZCP"), &segment) != CPIS_HOST_OK) return CPIS_FAILED;
  host->alert_field(writer, segment, 1, 1, 1, 1, str("1"));
  host->alert_field(writer, segment, 2, 1, 1, 1, status);
  if (host->outcome_get(outcome, CPIS_OUTCOME_REASON, 0, 0, &reason) == CPIS_HOST_OK) {
    host->alert_field(writer, segment, 3, 1, 1, 1, reason);
  }
  n = host->outcome_count(outcome, CPIS_LIST_ACCESSES, 0);
  for (a = 0; a < n && a < 25; ++a) {
    if (host->outcome_get(outcome, CPIS_ACCESS_ORG_ODS_CODE, a, 0, &org) != CPIS_HOST_OK) return CPIS_FAILED;
    if (host->alert_segment(writer, str("ZCA"), &segment) != CPIS_HOST_OK) return CPIS_FAILED;
    set_id[0] = (char)('0' + (a + 1) / 10);
    set_id[1] = (char)('0' + (a + 1) % 10);
    set_id[2] = '\0';
    host->alert_field(writer, segment, 1, 0, 0, 0, set_id[0] == '0' ? str(set_id + 1) : str(set_id));
    host->alert_field(writer, segment, 2, 0, 0, 0, org);
  }
  return CPIS_OK;
}

static const cpis_config_key keys[] = {
    {"authority", CPIS_CONFIG_STRING, "NHS", "CX-4 assigning authority of the NHS number"},
};

static const cpis_plugin_descriptor descriptor = {CPIS_PLUGIN_ABI_MAJOR,
                                                  CPIS_PLUGIN_ABI_MINOR,
                                                  sizeof(cpis_plugin_descriptor),
                                                  CPIS_KIND_ADAPTER,
                                                  "c_example",
                                                  "0.1.0",
                                                  keys,
                                                  1,
                                                  create,
                                                  destroy,
                                                  adapt,
                                                  compose_alerts,
                                                  NULL};

const cpis_plugin_descriptor* cpis_plugin_entry(void) {
  return &descriptor;
}
