// import_postfix: placeholder while the importer is written (see the header).
#include "core/import_postfix.h"

namespace mxs {

PostfixImporterRegistry& PostfixImporterRegistry::Get() {
  static PostfixImporterRegistry* r = new PostfixImporterRegistry;
  return *r;
}

void PostfixImporterRegistry::Register(PostfixImporter importer) {
  importers_.push_back(std::move(importer));
}

int RunImportPostfix(const ImportPostfixOptions&, std::ostream&, std::ostream& err) {
  err << "mxscreen import-postfix: not available in this build\n";
  return 1;
}

}  // namespace mxs
