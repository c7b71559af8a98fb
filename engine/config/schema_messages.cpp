#include "engine/config/schema_messages.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>
#include <tuple>

namespace cpis::config {

namespace {

// Every element of the tree, in document order.
void index(const XmlElement& element, std::vector<const XmlElement*>& out) {
  out.push_back(&element);
  for (const auto& child : element.children) index(child, out);
}

// Xerces quotes values after whitespace collapsing; the tree holds them as written.
std::string collapse(std::string_view text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      out += c;
      space = false;
    }
  }
  return out;
}

// "'(a,b?,c+)'" from Xerces becomes "(a, b?, c+)".
std::string readableModel(std::string_view model) {
  std::string out;
  for (const char c : model) {
    if (c == '\'') continue;
    out += c;
    if (c == ',') out += ' ';
  }
  return out;
}

// The text up to the next "'" after `prefix`, if the message starts with `prefix`.
std::optional<std::string_view> quotedAfter(std::string_view message, std::string_view prefix) {
  if (!message.starts_with(prefix)) return std::nullopt;
  const auto rest = message.substr(prefix.size());
  const auto end = rest.find('\'');
  if (end == std::string_view::npos) return std::nullopt;
  return rest.substr(0, end);
}

std::string_view after(std::string_view message, std::string_view marker) {
  const auto at = message.find(marker);
  return at == std::string_view::npos ? std::string_view() : message.substr(at + marker.size());
}

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) out += (out.empty() ? "" : ", ") + value;
  return out;
}

class Clarifier {
 public:
  Clarifier(const XmlElement& root, const SchemaFacts& facts) : facts_(facts) { index(root, elements_); }

  std::vector<ConfigProblem> clarify(const std::vector<ReportedProblem>& reported) {
    // One mistake, two reports: an unknown element where it stands, and its parent's content
    // model at the parent's end tag. Keep the first, with what the second adds.
    for (const auto& item : reported) {
      const ConfigProblem& problem = item.problem;
      if (const auto name = quotedAfter(problem.message, "no declaration found for element '")) {
        undeclared_.emplace_back(*name, problem.line, problem.column);
      } else if (const auto rejected = rejectedElement(problem.message)) {
        if (const XmlElement* parent = endingAt(problem.line, problem.column)) {
          models_.push_back(
              {std::string(*rejected), parent, readableModel(after(problem.message, "content model "))});
        }
      }
    }
    std::vector<ConfigProblem> out;
    for (const auto& item : reported) {
      if (item.wellFormedness) {
        out.push_back(item.problem);
      } else if (auto clear = clarify(item.problem)) {
        out.push_back(std::move(*clear));
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const ConfigProblem& a, const ConfigProblem& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

 private:
  // nullopt: the problem only echoes another one.
  std::optional<ConfigProblem> clarify(ConfigProblem problem) {
    // Views below point into this copy: problem.message is rewritten while they are in use.
    const std::string original = problem.message;
    const std::string_view message = original;
    if (const auto value = quotedAfter(message, "value '")) {
      problem.message = explainValue(problem, *value, after(message, std::string(*value) + "' "));
    } else if (const auto name = quotedAfter(message, "no declaration found for element '")) {
      problem.message = "<" + std::string(*name) + "> is not allowed here";
      if (const Model* model = modelRejecting(*name)) {
        problem.message += ": <" + model->parent->name + "> expects " + model->expected;
      }
    } else if (const auto attribute = quotedAfter(message, "attribute '")) {
      const auto owner = quotedAfter(after(message, "' is not declared for element "), "'");
      if (owner && isUndeclared(*owner, problem.line, problem.column)) return std::nullopt;
      if (owner)
        problem.message = "<" + std::string(*owner) + "> has no attribute '" + std::string(*attribute) + "'";
    } else if (const auto rejected = rejectedElement(message)) {
      // Reported at the parent's end tag; the element concerned is the parent's last child of
      // that name (the extra one, or the one out of order).
      if (isUndeclared(*rejected)) return std::nullopt;  // already reported where it stands
      const Model* model = modelRejecting(*rejected);
      const XmlElement* child = model == nullptr ? nullptr : lastChild(*model->parent, *rejected);
      if (child != nullptr) {
        problem.line = child->line;
        problem.column = child->column;
        problem.message = "<" + child->name + "> is not allowed here: <" + model->parent->name +
                          "> expects " + model->expected;
      }
    } else if (message.starts_with("empty content is not valid for content model ") ||
               message.starts_with("missing elements in content model ")) {
      if (const XmlElement* element = endingAt(problem.line, problem.column)) {
        problem.line = element->line;
        problem.column = element->column;
        problem.message = "<" + element->name + "> is incomplete: expected " +
                          readableModel(after(message, "content model "));
      }
    } else if (const auto required = quotedAfter(message, "missing required attribute '")) {
      if (const XmlElement* element = startingAt(problem.line, problem.column)) {
        problem.message =
            "<" + element->name + "> is missing the required attribute '" + std::string(*required) + "'";
      }
    } else if (message.starts_with("no character data is allowed by content model")) {
      problem.message = "text is not allowed here, only elements";
    } else if (const XmlElement* element = startingAt(problem.line, problem.column)) {
      problem.message = "<" + element->name + ">: " + problem.message;
    }
    return problem;
  }

  std::string explainValue(const ConfigProblem& problem, std::string_view value,
                           std::string_view reason) const {
    std::string subject;
    std::pair<std::string, std::string> key;
    const std::string wanted = collapse(value);
    if (const XmlElement* element = startingAt(problem.line, problem.column)) {
      for (const auto& [name, written] : element->attributes) {
        if (collapse(written) == wanted) {
          subject = "attribute '" + name + "' of <" + element->name + ">";
          key = {element->name, name};
          break;
        }
      }
    }
    if (subject.empty()) {
      if (const XmlElement* element = endingAt(problem.line, problem.column);
          element && collapse(element->text) == wanted) {
        subject = "<" + element->name + ">";
        key = {element->name, ""};
      }
    }
    // What may hold a secret is never quoted: a passphrase or password file's name (the secret
    // itself, typed in by mistake), a connection string (a password in it).
    const auto secretBearing = [](std::string_view name) {
      std::string lower(name);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      return lower == "connection" || lower.find("password") != std::string::npos ||
             lower.find("passphrase") != std::string::npos || lower.find("secret") != std::string::npos;
    };
    const std::string quoted =
        secretBearing(key.first) || secretBearing(key.second) ? "the value" : "'" + std::string(value) + "'";
    std::string explained;
    if (const auto maximum =
            quotedAfter(reason, "must be less than or equal to maxInclusive facet value '")) {
      explained = quoted + " is greater than " + std::string(*maximum);
    } else if (const auto minimum =
                   quotedAfter(reason, "must be greater than or equal to minInclusive facet value '")) {
      explained = quoted + " is less than " + std::string(*minimum);
    } else if (reason.starts_with("is invalid boolean")) {
      explained = quoted + " is not a boolean: write true or false";
    } else if (reason.starts_with("not in enumeration")) {
      const auto allowed = facts_.enumerations.find(key);
      explained = allowed == facts_.enumerations.end() ? quoted + " is not an allowed value"
                                                       : quoted + " is not one of: " + join(allowed->second);
    } else if (const auto pattern = quotedAfter(reason, "does not match regular expression facet '")) {
      explained = *pattern == "[0-9]+" || *pattern == "[+\\-]?[0-9]+"
                      ? quoted + " must be a whole number, written with digits only"
                      : quoted + " does not match the pattern " + std::string(*pattern);
    } else if (key.first == "privateKeyPassphraseFile") {
      explained = "the value is not a usable path";
    } else {
      explained = reason.empty() ? problem.message : quoted + " " + std::string(reason);
    }
    return subject.empty() ? explained : subject + ": " + explained;
  }

  // "element 'x' is not allowed for content model '(...)'" names x.
  static std::optional<std::string_view> rejectedElement(std::string_view message) {
    const auto name = quotedAfter(message, "element '");
    if (!name || message.find("' is not allowed for content model ") == std::string_view::npos)
      return std::nullopt;
    return name;
  }

  struct Model {
    std::string rejected;
    const XmlElement* parent;
    std::string expected;
  };
  const Model* modelRejecting(std::string_view name) const {
    const auto it =
        std::find_if(models_.begin(), models_.end(), [&](const Model& m) { return m.rejected == name; });
    return it == models_.end() ? nullptr : &*it;
  }

  bool isUndeclared(std::string_view name) const {
    return std::any_of(undeclared_.begin(), undeclared_.end(),
                       [&](const auto& u) { return std::get<0>(u) == name; });
  }
  bool isUndeclared(std::string_view name, std::uint64_t line, std::uint64_t column) const {
    return std::find(undeclared_.begin(), undeclared_.end(), std::tuple(std::string(name), line, column)) !=
           undeclared_.end();
  }

  const XmlElement* startingAt(std::uint64_t line, std::uint64_t column) const {
    for (const XmlElement* element : elements_) {
      if (element->line == line && element->column == column) return element;
    }
    return nullptr;
  }
  const XmlElement* endingAt(std::uint64_t line, std::uint64_t column) const {
    for (const XmlElement* element : elements_) {
      if (element->endLine == line && element->endColumn == column) return element;
    }
    return nullptr;
  }
  static const XmlElement* lastChild(const XmlElement& parent, std::string_view name) {
    const XmlElement* found = nullptr;
    for (const auto& child : parent.children) {
      if (child.name == name) found = &child;
    }
    return found;
  }

  const SchemaFacts& facts_;
  std::vector<const XmlElement*> elements_;
  std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t>> undeclared_;
  std::vector<Model> models_;
};

}  // namespace

std::vector<ConfigProblem> clarifySchemaProblems(const std::vector<ReportedProblem>& reported,
                                                 const XmlElement& root, const std::string& rootNamespace,
                                                 const SchemaFacts& facts) {
  // Another namespace (an old or future version, or none) or another root: nothing in the
  // file can be validated, and Xerces would say so for every element.
  if (!root.name.empty() && (rootNamespace != facts.targetNamespace || root.name != facts.rootElement)) {
    std::vector<ConfigProblem> out;
    const std::string found = rootNamespace.empty() ? "<" + root.name + "> without a namespace"
                                                    : "<" + root.name + " xmlns=\"" + rootNamespace + "\">";
    const std::string file = reported.empty() ? std::string() : reported.front().problem.file;
    out.push_back({file, root.line, root.column,
                   "the root element must be <" + facts.rootElement + " xmlns=\"" + facts.targetNamespace +
                       "\">, not " + found});
    for (const auto& item : reported) {
      if (item.wellFormedness) out.push_back(item.problem);
    }
    return out;
  }
  return Clarifier(root, facts).clarify(reported);
}

}  // namespace cpis::config
