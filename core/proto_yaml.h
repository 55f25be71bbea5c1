// proto_yaml: turns a YAML (or JSON, which YAML reads too) document into a
// protobuf message by reflection, refusing unknown fields and bad values with
// the field path. Config values are written for people: enum names in any case
// ("drop"), and an Any without "@type" takes its type from a resolver (a filter
// entry's name selects its config type).
#pragma once

#include <functional>
#include <string>

namespace YAML {
class Node;
}
namespace google::protobuf {
class Descriptor;
class Message;
}  // namespace google::protobuf

namespace mxs {

// Given the message that holds an Any field (already filled except its Any
// fields), returns the type to use when "@type" is absent, or nullptr.
using AnyTypeResolver =
    std::function<const google::protobuf::Descriptor*(const google::protobuf::Message& parent)>;

// Fills `out` from `node`. Throws ConfigError with the field path.
void YamlToMessage(const YAML::Node& node, google::protobuf::Message* out,
                   const AnyTypeResolver& resolver, const std::string& path = "");

// Parses text (YAML or JSON) into `out`. Throws ConfigError ("" path for syntax
// errors, with the line and column in the reason).
void ParseConfigText(const std::string& text, google::protobuf::Message* out,
                     const AnyTypeResolver& resolver);

// Reads a YAML or JSON file into `out`. Throws ConfigError ("cannot read
// config file PATH", or as ParseConfigText).
void ParseConfigFile(const std::string& path, google::protobuf::Message* out,
                     const AnyTypeResolver& resolver);

}  // namespace mxs
