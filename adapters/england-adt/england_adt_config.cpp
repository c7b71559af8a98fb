#include "adapters/england-adt/england_adt_config.h"

namespace cpis::adapters::england_adt {

EnglandAdtConfig EnglandAdtConfig::read(const sdk::Config& config) {
  EnglandAdtConfig values;
  values.a08Updates = config.getBool(kA08Updates);
  values.a02Updates = config.getBool(kA02Updates);
  values.requireNhType = config.getBool(kRequireNhType);
  return values;
}

}  // namespace cpis::adapters::england_adt
