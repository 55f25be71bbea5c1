// filter_registry: every filter type the process knows, by name and by config
// message type. Built-in filters register from their own translation units
// through FilterRegistrar; plugins use the same registry.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/filter.h"

namespace mxs {

class FilterRegistry {
 public:
  static FilterRegistry& Get();
  void Register(std::unique_ptr<FilterConfigFactory> factory);
  const FilterConfigFactory* FindByName(std::string_view name) const;
  const FilterConfigFactory* FindByType(std::string_view full_type_name) const;
  std::vector<std::string> Names() const;

 private:
  std::vector<std::unique_ptr<FilterConfigFactory>> factories_;
};

// Registers T at static-initialisation time: `static FilterRegistrar<MyFactory> r;`.
template <typename T>
class FilterRegistrar {
 public:
  FilterRegistrar() { FilterRegistry::Get().Register(std::make_unique<T>()); }
};

}  // namespace mxs
