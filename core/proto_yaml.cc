// proto_yaml: YAML -> protobuf by reflection, with field paths in every error.
#include "core/proto_yaml.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>
#include <yaml-cpp/yaml.h>

#include <strings.h>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>

#include "core/config_error.h"

namespace mxs {
namespace {

namespace pb = google::protobuf;

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string NodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "\"" + n.Scalar() + "\"";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "nothing";
  }
}

template <typename T>
T ParseInteger(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) throw ConfigError(path, "expected an integer, got " + NodeKind(n));
  const std::string& s = n.Scalar();
  errno = 0;
  char* end = nullptr;
  bool negative = !s.empty() && s[0] == '-';
  if (s.empty() || (std::numeric_limits<T>::is_signed == false && negative)) {
    throw ConfigError(path, "expected a non-negative integer, got \"" + s + "\"");
  }
  long long sv = 0;
  unsigned long long uv = 0;
  if (std::numeric_limits<T>::is_signed) {
    sv = std::strtoll(s.c_str(), &end, 10);
  } else {
    uv = std::strtoull(s.c_str(), &end, 10);
  }
  if (errno != 0 || end == s.c_str() || *end != '\0') {
    throw ConfigError(path, "expected an integer, got \"" + s + "\"");
  }
  if (std::numeric_limits<T>::is_signed) {
    if (sv < static_cast<long long>(std::numeric_limits<T>::min()) ||
        sv > static_cast<long long>(std::numeric_limits<T>::max())) {
      throw ConfigError(path, "integer out of range: " + s);
    }
    return static_cast<T>(sv);
  }
  if (uv > static_cast<unsigned long long>(std::numeric_limits<T>::max())) {
    throw ConfigError(path, "integer out of range: " + s);
  }
  return static_cast<T>(uv);
}

bool ParseBool(const YAML::Node& n, const std::string& path) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    for (const char* t : {"true", "yes", "on"}) {
      if (strcasecmp(s.c_str(), t) == 0) return true;
    }
    for (const char* f : {"false", "no", "off"}) {
      if (strcasecmp(s.c_str(), f) == 0) return false;
    }
  }
  throw ConfigError(path, "expected true or false, got " + NodeKind(n));
}

double ParseDouble(const YAML::Node& n, const std::string& path) {
  if (n.IsScalar()) {
    char* end = nullptr;
    const std::string& s = n.Scalar();
    double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && *end == '\0') return v;
  }
  throw ConfigError(path, "expected a number, got " + NodeKind(n));
}

const pb::EnumValueDescriptor* ParseEnum(const pb::FieldDescriptor* f, const YAML::Node& n,
                                         const std::string& path) {
  const pb::EnumDescriptor* e = f->enum_type();
  if (n.IsScalar()) {
    for (int i = 0; i < e->value_count(); ++i) {
      const auto* v = e->value(i);
      if (v->number() == 0) continue;  // *_UNSPECIFIED is "not set", never written
      if (strcasecmp(v->name().c_str(), n.Scalar().c_str()) == 0) return v;
    }
  }
  std::string allowed;
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() == 0) continue;
    if (!allowed.empty()) allowed += ", ";
    std::string lower = e->value(i)->name();
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    allowed += lower;
  }
  throw ConfigError(path, "expected one of " + allowed + ", got " + NodeKind(n));
}

void SetScalar(pb::Message* msg, const pb::FieldDescriptor* f, const YAML::Node& n,
               const std::string& path, bool add) {
  const pb::Reflection* r = msg->GetReflection();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      auto v = ParseInteger<int32_t>(n, path);
      add ? r->AddInt32(msg, f, v) : r->SetInt32(msg, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      auto v = ParseInteger<int64_t>(n, path);
      add ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32: {
      auto v = ParseInteger<uint32_t>(n, path);
      add ? r->AddUInt32(msg, f, v) : r->SetUInt32(msg, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      auto v = ParseInteger<uint64_t>(n, path);
      add ? r->AddUInt64(msg, f, v) : r->SetUInt64(msg, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
      double v = ParseDouble(n, path);
      add ? r->AddDouble(msg, f, v) : r->SetDouble(msg, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_FLOAT: {
      auto v = static_cast<float>(ParseDouble(n, path));
      add ? r->AddFloat(msg, f, v) : r->SetFloat(msg, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL: {
      bool v = ParseBool(n, path);
      add ? r->AddBool(msg, f, v) : r->SetBool(msg, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const auto* v = ParseEnum(f, n, path);
      add ? r->AddEnum(msg, f, v) : r->SetEnum(msg, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      if (!n.IsScalar()) throw ConfigError(path, "expected a string, got " + NodeKind(n));
      add ? r->AddString(msg, f, n.Scalar()) : r->SetString(msg, f, n.Scalar());
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      break;  // handled by the caller
  }
}

// google.protobuf.Value from any YAML node (a plugin's free-form config).
// YAML 1.2 core schema for plain scalars: null, true/false and numbers are
// typed, everything else (and every quoted scalar) is a string. Numbers are
// doubles, as in JSON.
void FillValue(const YAML::Node& n, pb::Value* out, const std::string& path, int depth) {
  if (depth > 64) throw ConfigError(path, "nested too deeply (more than 64 levels)");
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      pb::Struct* s = out->mutable_struct_value();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) throw ConfigError(path, "a key is not a plain string");
        const std::string key = kv.first.Scalar();
        FillValue(kv.second, &(*s->mutable_fields())[key], Join(path, key), depth + 1);
      }
      return;
    }
    case YAML::NodeType::Sequence: {
      pb::ListValue* l = out->mutable_list_value();
      for (size_t i = 0; i < n.size(); ++i) {
        FillValue(n[i], l->add_values(), path + "[" + std::to_string(i) + "]", depth + 1);
      }
      return;
    }
    case YAML::NodeType::Scalar:
      break;
    default:
      out->set_null_value(pb::NULL_VALUE);
      return;
  }
  const std::string& v = n.Scalar();
  if (n.Tag() != "!") {  // plain (unquoted)
    if (v == "null" || v == "Null" || v == "NULL" || v == "~") {
      out->set_null_value(pb::NULL_VALUE);
      return;
    }
    if (v == "true" || v == "True" || v == "TRUE") return out->set_bool_value(true);
    if (v == "false" || v == "False" || v == "FALSE") return out->set_bool_value(false);
    if (!v.empty() && (std::isdigit(static_cast<unsigned char>(v[0])) || v[0] == '-' ||
                       v[0] == '+' || v[0] == '.')) {
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (*end == '\0' && std::isfinite(d)) return out->set_number_value(d);
    }
  }
  out->set_string_value(v);
}

void FillAny(const YAML::Node& node, pb::Any* any, const pb::Descriptor* fallback,
             const AnyTypeResolver& resolver, const std::string& path) {
  if (!node.IsMap()) throw ConfigError(path, "expected a map, got " + NodeKind(node));
  const pb::Descriptor* type = fallback;
  YAML::Node body = YAML::Clone(node);
  if (YAML::Node t = node["@type"]) {
    if (!t.IsScalar()) throw ConfigError(Join(path, "@type"), "expected a type URL");
    std::string url = t.Scalar();
    std::string name = url.substr(url.rfind('/') + 1);
    type = pb::DescriptorPool::generated_pool()->FindMessageTypeByName(name);
    if (type == nullptr) throw ConfigError(Join(path, "@type"), "unknown type \"" + url + "\"");
    if (fallback != nullptr && fallback != type) {
      throw ConfigError(
          Join(path, "@type"),
          "\"" + name + "\" is not the config type of this filter (" + fallback->full_name() + ")");
    }
    body.remove("@type");
  }
  if (type == nullptr) {
    throw ConfigError(path, "\"@type\" is missing and cannot be inferred");
  }
  const pb::Message* proto = pb::MessageFactory::generated_factory()->GetPrototype(type);
  std::unique_ptr<pb::Message> inner(proto->New());
  YamlToMessage(body, inner.get(), resolver, path);
  any->PackFrom(*inner);
}

}  // namespace

void YamlToMessage(const YAML::Node& node, pb::Message* out, const AnyTypeResolver& resolver,
                   const std::string& path) {
  if (node.IsNull()) return;
  const pb::Descriptor* d = out->GetDescriptor();
  if (d == pb::Struct::descriptor()) {
    if (!node.IsMap()) throw ConfigError(path, "expected a map, got " + NodeKind(node));
    auto* s = dynamic_cast<pb::Struct*>(out);
    if (s == nullptr) throw ConfigError(path, "cannot fill a free-form map here");
    pb::Value v;
    FillValue(node, &v, path, 0);
    s->Swap(v.mutable_struct_value());
    return;
  }
  if (!node.IsMap()) throw ConfigError(path, "expected a map, got " + NodeKind(node));
  const pb::Reflection* r = out->GetReflection();
  // Any fields are filled last, so that a resolver can look at their siblings
  // (a filter entry's name) whatever order the keys were written in.
  std::vector<std::pair<const pb::FieldDescriptor*, YAML::Node>> anys;
  std::set<const pb::OneofDescriptor*> oneofs_set;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) throw ConfigError(path, "a key is not a plain string");
    const std::string key = kv.first.Scalar();
    const std::string field_path = Join(path, key);
    const pb::FieldDescriptor* f = d->FindFieldByName(key);
    if (f == nullptr) f = d->FindFieldByCamelcaseName(key);
    if (f == nullptr) {
      std::string known;
      for (int i = 0; i < d->field_count(); ++i) {
        known += (i ? ", " : "") + d->field(i)->name();
      }
      throw ConfigError(field_path, "unknown field (known: " + known + ")");
    }
    const YAML::Node& value = kv.second;
    if (value.IsNull()) continue;
    if (const pb::OneofDescriptor* o = f->real_containing_oneof()) {
      if (!oneofs_set.insert(o).second) {
        std::string names;
        for (int i = 0; i < o->field_count(); ++i) names += (i ? ", " : "") + o->field(i)->name();
        throw ConfigError(field_path, "only one of " + names + " may be set");
      }
    }
    if (f->is_map()) {
      // A YAML map: each key/value pair becomes one map entry message.
      if (!value.IsMap()) throw ConfigError(field_path, "expected a map, got " + NodeKind(value));
      const pb::Descriptor* entry = f->message_type();
      for (const auto& item : value) {
        if (!item.first.IsScalar()) throw ConfigError(field_path, "a key is not a plain string");
        std::string item_path = field_path + "[" + item.first.Scalar() + "]";
        pb::Message* e = r->AddMessage(out, f);
        SetScalar(e, entry->map_key(), item.first, item_path, false);
        if (entry->map_value()->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
          YamlToMessage(item.second, e->GetReflection()->MutableMessage(e, entry->map_value()),
                        resolver, item_path);
        } else {
          SetScalar(e, entry->map_value(), item.second, item_path, false);
        }
      }
      continue;
    }
    if (f->is_repeated()) {
      if (!value.IsSequence())
        throw ConfigError(field_path, "expected a list, got " + NodeKind(value));
      for (size_t i = 0; i < value.size(); ++i) {
        std::string item_path = field_path + "[" + std::to_string(i) + "]";
        if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
          pb::Message* item = r->AddMessage(out, f);
          if (f->message_type()->full_name() == "google.protobuf.Any") {
            FillAny(value[i], static_cast<pb::Any*>(item), nullptr, resolver, item_path);
          } else {
            YamlToMessage(value[i], item, resolver, item_path);
          }
        } else {
          SetScalar(out, f, value[i], item_path, true);
        }
      }
      continue;
    }
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->message_type()->full_name() == "google.protobuf.Any") {
        anys.emplace_back(f, value);
      } else {
        YamlToMessage(value, r->MutableMessage(out, f), resolver, field_path);
      }
      continue;
    }
    SetScalar(out, f, value, field_path, false);
  }
  for (auto& [f, value] : anys) {
    const pb::Descriptor* fallback = resolver ? resolver(*out) : nullptr;
    FillAny(value, static_cast<pb::Any*>(r->MutableMessage(out, f)), fallback, resolver,
            Join(path, f->name()));
  }
}

void ParseConfigText(const std::string& text, pb::Message* out, const AnyTypeResolver& resolver) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("", "syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                              std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) throw ConfigError("", "the config is empty");
  YamlToMessage(root, out, resolver, "");
}

void ParseConfigFile(const std::string& path, pb::Message* out, const AnyTypeResolver& resolver) {
  std::ifstream in(path);
  if (!in) throw ConfigError("", "cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  ParseConfigText(ss.str(), out, resolver);
}

}  // namespace mxs
