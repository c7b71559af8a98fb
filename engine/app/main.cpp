#include "engine/app/engine_application.h"

int main(int argc, char** argv) {
  cpis::app::EngineApplication application;
  return application.run(argc, argv);
}
