// filter_registry: lookups by name and config type; also ActionName.
#include "core/filter_registry.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <stdexcept>

namespace mxs {

const char* ActionName(Action a) {
  switch (a) {
    case Action::kIgnore:
      return "ignore";
    case Action::kEnforce:
      return "enforce";
    case Action::kDrop:
      return "drop";
  }
  return "?";
}

FilterRegistry& FilterRegistry::Get() {
  static FilterRegistry* registry =
      new FilterRegistry;  // never destroyed: used by static registrars
  return *registry;
}

void FilterRegistry::Register(std::unique_ptr<FilterConfigFactory> factory) {
  if (FindByName(factory->name()) != nullptr) {
    throw std::logic_error("filter registered twice: " + std::string(factory->name()));
  }
  factories_.push_back(std::move(factory));
}

const FilterConfigFactory* FilterRegistry::FindByName(std::string_view name) const {
  for (const auto& f : factories_) {
    if (f->name() == name) return f.get();
  }
  return nullptr;
}

const FilterConfigFactory* FilterRegistry::FindByType(std::string_view full_type_name) const {
  for (const auto& f : factories_) {
    if (f->config_type()->full_name() == full_type_name) return f.get();
  }
  return nullptr;
}

std::vector<std::string> FilterRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& f : factories_) out.emplace_back(f->name());
  // Registration order is link order; messages should not depend on it.
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mxs
