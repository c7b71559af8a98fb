#include "engine/plugin/host_api.h"

#include <utility>

#include <Poco/Logger.h>
#include <Poco/Message.h>

#include "engine/hl7v2/charset.h"
#include "engine/hl7v2/path.h"
#include "engine/plugin/attendance_fields.h"
#include "engine/plugin/plugin_config.h"

namespace cpis::plugin {
namespace {

constexpr std::size_t kMaxErrorText = 500;

std::string_view view(cpis_str text) noexcept {
  return text.size == 0 || text.data == nullptr ? std::string_view() : std::string_view(text.data, text.size);
}

const cpis_str kEmpty{"", 0};

// Host services are called from C: nothing may escape them. Only allocation can throw here.
template <typename Fn, typename R>
R guarded(Fn&& fn, R failure) noexcept {
  try {
    return fn();
  } catch (...) {
    return failure;
  }
}

// A path for reading or writing one place; `*` only where every occurrence is asked for.
std::optional<hl7v2::Path> pathOf(cpis_str text, bool allowAll) {
  auto parsed = hl7v2::parsePath(view(text));
  if (!parsed.ok()) return std::nullopt;
  if (!allowAll &&
      (parsed->segmentRepetition == hl7v2::Path::kAll || parsed->fieldRepetition == hl7v2::Path::kAll)) {
    return std::nullopt;
  }
  return std::move(parsed).value();
}

Poco::Message::Priority priorityOf(cpis_log_level level) {
  switch (level) {
    case CPIS_LOG_DEBUG: return Poco::Message::PRIO_DEBUG;
    case CPIS_LOG_INFO: return Poco::Message::PRIO_INFORMATION;
    case CPIS_LOG_WARNING: return Poco::Message::PRIO_WARNING;
    default: return Poco::Message::PRIO_ERROR;
  }
}

// ---- logging and errors -----------------------------------------------------------------

void hostLog(const cpis_host_context* context, cpis_log_level level, cpis_str text) noexcept {
  if (context == nullptr || context->logger == nullptr) return;
  try {
    const Poco::Message::Priority priority = priorityOf(level);
    if (!context->logger->is(priority)) return;
    context->logger->log(Poco::Message(context->logger->name(), maskPatientData(view(text)), priority));
  } catch (...) {  // a log line that cannot be written is dropped, never thrown into C
  }
}

int32_t hostLogEnabled(const cpis_host_context* context, cpis_log_level level) noexcept {
  return context != nullptr && context->logger != nullptr && context->logger->is(priorityOf(level)) ? 1 : 0;
}

bool reportableCode(std::uint32_t code) {
  return code == CPIS_HL7_NONE || (code >= CPIS_HL7_SEGMENT_SEQUENCE && code <= CPIS_HL7_VALUE_TOO_LONG) ||
         code == CPIS_HL7_INTERNAL_ERROR;
}

cpis_host_result hostErrorSet(cpis_error* error, uint32_t code, cpis_str location, cpis_str text) noexcept {
  if (error == nullptr || !reportableCode(code)) return CPIS_HOST_BAD_ARGUMENT;
  if (location.size != 0 && !pathOf(location, false)) return CPIS_HOST_BAD_ARGUMENT;
  return guarded(
      [&] {
        // Masked, then cut: cut first, a number across the cut would no longer look like one.
        std::string masked = maskPatientData(view(text));
        if (masked.size() > kMaxErrorText) {
          std::size_t cut = kMaxErrorText;
          while (cut > 0 && (static_cast<unsigned char>(masked[cut]) & 0xC0) == 0x80) --cut;  // a whole character
          masked.resize(cut);
        }
        error->location = std::string(view(location));
        error->text = std::move(masked);
        error->code = code;
        error->set = true;
        return CPIS_HOST_OK;
      },
      CPIS_HOST_FAILED);
}

// ---- configuration ----------------------------------------------------------------------

const std::string* configValue(const cpis_config* config, cpis_str key, ConfigType type) {
  if (config == nullptr || config->config == nullptr) return nullptr;
  const ConfigKeySpec* spec = config->config->spec(view(key));
  if (spec == nullptr || spec->type != type) return nullptr;
  return config->config->find(view(key));
}

cpis_host_result hostConfigGet(const cpis_config* config, cpis_str key, cpis_str* value) noexcept {
  if (value == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  *value = kEmpty;
  return guarded(
      [&] {
        if (config == nullptr || config->config == nullptr) return CPIS_HOST_BAD_ARGUMENT;
        const std::string* text = config->config->find(view(key));
        if (text == nullptr) return CPIS_HOST_BAD_ARGUMENT;
        *value = cpis_str{text->data(), text->size()};
        return CPIS_HOST_OK;
      },
      CPIS_HOST_FAILED);
}

cpis_host_result hostConfigGetInt(const cpis_config* config, cpis_str key, int64_t* value) noexcept {
  if (value == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  return guarded(
      [&] {
        const std::string* text = configValue(config, key, ConfigType::Integer);
        const auto parsed = text != nullptr ? parseInteger(*text) : std::nullopt;
        if (!parsed) return CPIS_HOST_BAD_ARGUMENT;
        *value = *parsed;
        return CPIS_HOST_OK;
      },
      CPIS_HOST_FAILED);
}

cpis_host_result hostConfigGetBool(const cpis_config* config, cpis_str key, int32_t* value) noexcept {
  if (value == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  return guarded(
      [&] {
        const std::string* text = configValue(config, key, ConfigType::Boolean);
        const auto parsed = text != nullptr ? parseBoolean(*text) : std::nullopt;
        if (!parsed) return CPIS_HOST_BAD_ARGUMENT;
        *value = *parsed ? 1 : 0;
        return CPIS_HOST_OK;
      },
      CPIS_HOST_FAILED);
}

// ---- messages ---------------------------------------------------------------------------

bool usable(const cpis_message* message) {
  return message != nullptr && message->message != nullptr;
}

cpis_host_result hostMessageGet(const cpis_message* message, cpis_str path, cpis_str* value) noexcept {
  if (value == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  *value = kEmpty;
  return guarded(
      [&] {
        const auto parsed = pathOf(path, false);
        if (!usable(message) || !parsed) return CPIS_HOST_BAD_ARGUMENT;
        if (message->message->presence(*parsed) != hl7v2::Presence::Valued) return CPIS_HOST_ABSENT;
        *value = message->arena->keep(message->message->get(*parsed));
        return CPIS_HOST_OK;
      },
      CPIS_HOST_FAILED);
}

cpis_host_result hostMessageGetAll(const cpis_message* message, cpis_str path,
                                   cpis_str_list* values) noexcept {
  if (values == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  *values = cpis_str_list{nullptr, 0};
  return guarded(
      [&] {
        const auto parsed = pathOf(path, true);
        if (!usable(message) || !parsed) return CPIS_HOST_BAD_ARGUMENT;
        *values = message->arena->keep(message->message->getAll(*parsed));
        return CPIS_HOST_OK;
      },
      CPIS_HOST_FAILED);
}

cpis_host_result hostMessageRaw(const cpis_message* message, cpis_str path, cpis_str* raw) noexcept {
  if (raw == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  *raw = kEmpty;
  return guarded(
      [&] {
        const auto parsed = pathOf(path, false);
        if (!usable(message) || !parsed) return CPIS_HOST_BAD_ARGUMENT;
        const std::string_view text = message->message->raw(*parsed);
        if (text.empty()) return CPIS_HOST_ABSENT;
        // Copied: a later message_set() re-indexes the message and may move its bytes.
        *raw = message->arena->keep(std::string(text));
        return CPIS_HOST_OK;
      },
      CPIS_HOST_FAILED);
}

cpis_presence hostMessagePresence(const cpis_message* message, cpis_str path) noexcept {
  return guarded(
      [&] {
        const auto parsed = pathOf(path, false);
        if (!usable(message) || !parsed) return CPIS_PRESENCE_BAD_PATH;
        switch (message->message->presence(*parsed)) {
          case hl7v2::Presence::Valued: return CPIS_PRESENCE_VALUED;
          case hl7v2::Presence::Null: return CPIS_PRESENCE_NULL;
          case hl7v2::Presence::Absent: return CPIS_PRESENCE_ABSENT;
        }
        return CPIS_PRESENCE_ABSENT;
      },
      CPIS_PRESENCE_BAD_PATH);
}

uint32_t hostMessageCount(const cpis_message* message, cpis_str segmentId) noexcept {
  if (!usable(message)) return 0;
  return static_cast<uint32_t>(message->message->occurrences(view(segmentId)));
}

int32_t hostMessageWritable(const cpis_message* message) noexcept {
  return message != nullptr && message->writable != nullptr ? 1 : 0;
}

cpis_host_result hostMessageSet(cpis_message* message, cpis_str path, cpis_str value) noexcept {
  if (message == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  if (message->writable == nullptr) return CPIS_HOST_READ_ONLY;
  return guarded(
      [&] {
        const auto parsed = pathOf(path, false);
        if (!parsed) return CPIS_HOST_BAD_ARGUMENT;
        return message->writable->set(*parsed, view(value)).isOk() ? CPIS_HOST_OK : CPIS_HOST_BAD_ARGUMENT;
      },
      CPIS_HOST_FAILED);
}

// ---- the attendance ---------------------------------------------------------------------

cpis_host_result hostAttendanceGet(const cpis_attendance* attendance, cpis_attendance_field field,
                                   cpis_str* value) noexcept {
  if (value == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  *value = kEmpty;
  if (attendance == nullptr || attendance->attendance == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  return guarded(
      [&] {
        auto text = readAttendanceField(*attendance->attendance, field);
        if (!text) return CPIS_HOST_BAD_ARGUMENT;
        *value = attendance->arena->keep(std::move(*text));
        return CPIS_HOST_OK;
      },
      CPIS_HOST_FAILED);
}

cpis_host_result hostAttendanceSet(cpis_attendance* attendance, cpis_attendance_field field,
                                   cpis_str value) noexcept {
  if (attendance == nullptr || attendance->attendance == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  return guarded([&] { return writeAttendanceField(*attendance->attendance, field, view(value)); },
                 CPIS_HOST_FAILED);
}

cpis_attendance_field hostAttendanceFieldId(cpis_str name) noexcept {
  return attendanceFieldId(view(name));
}

// ---- the outcome and the alerts -----------------------------------------------------------

uint32_t hostOutcomeCount(const cpis_outcome* outcome, cpis_outcome_list list, uint32_t record) noexcept {
  if (outcome == nullptr || outcome->outcome == nullptr) return 0;
  return outcomeCount(*outcome->outcome, list, record);
}

cpis_host_result hostOutcomeGet(const cpis_outcome* outcome, cpis_outcome_field field, uint32_t index,
                                uint32_t subIndex, cpis_str* value) noexcept {
  if (value == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  *value = kEmpty;
  if (outcome == nullptr || outcome->outcome == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  return guarded(
      [&] {
        std::string text;
        const cpis_host_result result = readOutcomeField(*outcome->outcome, field, index, subIndex, text);
        if (result == CPIS_HOST_OK) *value = outcome->arena->keep(std::move(text));
        return result;
      },
      CPIS_HOST_FAILED);
}

cpis_host_result hostAlertSegment(cpis_alert_writer* writer, cpis_str segmentId, uint32_t* index) noexcept {
  if (writer == nullptr || writer->out == nullptr || index == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  return guarded(
      [&] {
        auto added = writer->out->add(view(segmentId));
        if (!added.ok()) return CPIS_HOST_BAD_ARGUMENT;
        *index = static_cast<uint32_t>(added.value());
        return CPIS_HOST_OK;
      },
      CPIS_HOST_FAILED);
}

cpis_host_result hostAlertField(cpis_alert_writer* writer, uint32_t segment, uint32_t field,
                                uint32_t repetition, uint32_t component, uint32_t subComponent,
                                cpis_str value) noexcept {
  if (writer == nullptr || writer->out == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  return guarded(
      [&] {
        const core::Status status =
            writer->out->set(segment, field, repetition, component, subComponent, view(value));
        return status.isOk() ? CPIS_HOST_OK : CPIS_HOST_BAD_ARGUMENT;
      },
      CPIS_HOST_FAILED);
}

cpis_host_result hostWriteStandardAlerts(cpis_alert_writer* writer, cpis_alert_encoding encoding) noexcept {
  if (writer == nullptr || writer->out == nullptr || writer->outcome == nullptr)
    return CPIS_HOST_BAD_ARGUMENT;
  if (writer->standard == nullptr || writer->standard->encoder == nullptr) return CPIS_HOST_UNSUPPORTED;
  AlertEncoding chosen = writer->standard->feedEncoding;
  switch (encoding) {
    case CPIS_ALERTS_FEED_DEFAULT: break;
    case CPIS_ALERTS_ZSEGMENTS: chosen = AlertEncoding::ZSegments; break;
    case CPIS_ALERTS_OBX: chosen = AlertEncoding::Obx; break;
    default: return CPIS_HOST_BAD_ARGUMENT;
  }
  return guarded(
      [&] {
        const std::size_t before = writer->out->size();
        const core::Status status = writer->standard->encoder->encode(*writer->outcome, chosen, *writer->out);
        if (status.isOk()) return CPIS_HOST_OK;
        writer->out->truncate(before);
        return CPIS_HOST_FAILED;
      },
      CPIS_HOST_FAILED);
}

// ---- notifications ------------------------------------------------------------------------

cpis_host_result hostNotificationGet(const cpis_notification* notification, cpis_str key,
                                     cpis_str* value) noexcept {
  if (value == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  *value = kEmpty;
  if (notification == nullptr || notification->fields == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  const auto it = notification->fields->find(view(key));
  if (it == notification->fields->end()) return CPIS_HOST_ABSENT;
  *value = cpis_str{it->second.data(), it->second.size()};
  return CPIS_HOST_OK;
}

}  // namespace

cpis_str CallArena::keep(std::string text) {
  const std::string& kept = texts_.emplace_back(std::move(text));
  return cpis_str{kept.data(), kept.size()};
}

cpis_str_list CallArena::keep(std::vector<std::string> texts) {
  std::vector<cpis_str>& list = lists_.emplace_back();
  list.reserve(texts.size());
  for (std::string& text : texts) list.push_back(keep(std::move(text)));
  return cpis_str_list{list.empty() ? nullptr : list.data(), list.size()};
}

cpis_host_api makeHostApi(const cpis_host_context* context) {
  cpis_host_api api{};
  api.abi_major = CPIS_PLUGIN_ABI_MAJOR;
  api.abi_minor = CPIS_PLUGIN_ABI_MINOR;
  api.struct_size = static_cast<uint32_t>(sizeof(cpis_host_api));
  api.context = context;
  api.log = &hostLog;
  api.log_enabled = &hostLogEnabled;
  api.error_set = &hostErrorSet;
  api.config_get = &hostConfigGet;
  api.config_get_int = &hostConfigGetInt;
  api.config_get_bool = &hostConfigGetBool;
  api.message_get = &hostMessageGet;
  api.message_get_all = &hostMessageGetAll;
  api.message_raw = &hostMessageRaw;
  api.message_presence = &hostMessagePresence;
  api.message_count = &hostMessageCount;
  api.message_writable = &hostMessageWritable;
  api.message_set = &hostMessageSet;
  api.attendance_get = &hostAttendanceGet;
  api.attendance_set = &hostAttendanceSet;
  api.attendance_field_id = &hostAttendanceFieldId;
  api.outcome_count = &hostOutcomeCount;
  api.outcome_get = &hostOutcomeGet;
  api.alert_segment = &hostAlertSegment;
  api.alert_field = &hostAlertField;
  api.write_standard_alerts = &hostWriteStandardAlerts;
  api.notification_get = &hostNotificationGet;
  return api;
}

}  // namespace cpis::plugin
