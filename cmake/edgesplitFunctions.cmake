# edgesplit's CMake functions, included by edgesplitConfig.cmake (find_package(edgesplit)).
# docs/cmake.md describes them; in short:
#
#   edgesplit_add_model(<target> MODEL m.onnx [TARGET cortex-m4|FILE.json]
#                       [CALIBRATION c.npz] [PRECISION int8|float32] [NAME c_prefix]
#                       [OUTPUT_DIR dir] [OPTIONS <more compile flags>...])
#   edgesplit_add_fleet(<prefix> MODEL m.onnx TOPOLOGY t.json [CALIBRATION c.npz]
#                       [PRECISION ...] [DEVICES wrist hub ...] [OUTPUT_DIR dir] [OPTIONS ...])
#   edgesplit_gate(<name> REPORT_OF <target-or-prefix> BASELINE baseline.json
#                  [MAX_INCREASE ram=2%,flash=2%,...])
#
# Each model or fleet is one `edgesplit compile` custom command. Its OUTPUTs are the generated
# sources, whose names are fixed per device (model.h, model.c, weights.c, and fleet.h, fleet.c in
# a fleet), and the report; it DEPENDS on the model, the topology, the calibration archive, any
# target .json and the edgesplit executable, so the build tool reruns exactly the compiles whose
# inputs changed. The kernels come from one library, edgesplit::runtime, built from the
# installed runtime-c sources (listed in edgesplitRuntimeSources.cmake), that every generated
# library links: one copy of each kernel however many models a firmware links.
include_guard(GLOBAL)

# The int8 kernels' rescaling rule (docs/int8.md, "Fixed-point rescaling"). edgesplit::runtime is
# one library for every model of the project, so the rule is one per project: each int8 compile
# gets `--rounding ${EDGESPLIT_ROUNDING}` and the library is built for it. double (TFLite's, the
# rule of pre-quantised models) unless the project sets single (onnxruntime's, the rule
# `edgesplit compile` chooses by itself for calibrated models).
set(EDGESPLIT_ROUNDING "double" CACHE STRING
    "Rescaling rule of the int8 kernels of every edgesplit model: double or single")
set_property(CACHE EDGESPLIT_ROUNDING PROPERTY STRINGS double single)

# An absolute path for a file argument, relative ones taken from the calling CMakeLists.txt's
# folder (the custom command runs elsewhere).
function(_edgesplit_absolute out path)
  cmake_path(ABSOLUTE_PATH path BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE
             OUTPUT_VARIABLE absolute)
  set(${out} "${absolute}" PARENT_SCOPE)
endfunction()

# edgesplit reads a target argument holding '/' or ending in .json as a file.
function(_edgesplit_is_target_file out target)
  if(target MATCHES "/" OR target MATCHES "\\.json$")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

function(_edgesplit_runtime_library)
  if(TARGET edgesplit_runtime)
    return()
  endif()
  if(NOT EDGESPLIT_RUNTIME_DIR OR NOT EDGESPLIT_RUNTIME_SOURCE_FILES)
    message(FATAL_ERROR "edgesplit: the runtime sources are unknown here; call "
                        "find_package(edgesplit) in this directory or a parent")
  endif()
  list(TRANSFORM EDGESPLIT_RUNTIME_SOURCE_FILES PREPEND "${EDGESPLIT_RUNTIME_DIR}/"
       OUTPUT_VARIABLE sources)
  add_library(edgesplit_runtime STATIC ${sources})
  add_library(edgesplit::runtime ALIAS edgesplit_runtime)
  target_include_directories(edgesplit_runtime PUBLIC "${EDGESPLIT_RUNTIME_DIR}/include")
  # The rule every int8 compile of the project was given (src/s8_rounding.h).
  if(EDGESPLIT_ROUNDING STREQUAL "single")
    target_compile_definitions(edgesplit_runtime PRIVATE ES_S8_SINGLE_ROUNDING=1)
  else()
    target_compile_definitions(edgesplit_runtime PRIVATE ES_S8_SINGLE_ROUNDING=0)
  endif()
  set_target_properties(edgesplit_runtime PROPERTIES
    C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  # The float32 kernels call expf, tanhf, ...; int8 code leaves libm unused.
  if(NOT MSVC)
    target_link_libraries(edgesplit_runtime PUBLIC m)
  endif()
endfunction()

# One static library per generated device folder.
function(_edgesplit_device_library name folder fleet)
  set(sources "${folder}/model.c" "${folder}/weights.c" "${folder}/model.h")
  if(fleet)
    list(APPEND sources "${folder}/fleet.c" "${folder}/fleet.h")
  endif()
  _edgesplit_runtime_library()
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC "${folder}")
  target_link_libraries(${name} PUBLIC edgesplit::runtime)
  set_target_properties(${name} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
endfunction()

# The arguments common to both functions: the compile command line, its dependencies and the
# output folder.
macro(_edgesplit_common_arguments name)
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}(${name}): unknown arguments "
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_MODEL)
    message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}(${name}): MODEL is required (the .onnx file)")
  endif()
  _edgesplit_absolute(model "${arg_MODEL}")
  set(folder "${CMAKE_CURRENT_BINARY_DIR}/edgesplit/${name}")
  if(arg_OUTPUT_DIR)
    cmake_path(ABSOLUTE_PATH arg_OUTPUT_DIR BASE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}"
               NORMALIZE OUTPUT_VARIABLE folder)
  endif()
  set(command compile "${model}")
  set(depends "${model}" "$<TARGET_FILE:edgesplit::edgesplit>")
  if(arg_CALIBRATION)
    _edgesplit_absolute(calibration "${arg_CALIBRATION}")
    list(APPEND command --calibration "${calibration}")
    list(APPEND depends "${calibration}")
  endif()
  if(arg_PRECISION)
    if(NOT arg_PRECISION MATCHES "^(int8|float32)$")
      message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}(${name}): PRECISION ${arg_PRECISION}: "
                          "expected int8 or float32")
    endif()
    list(APPEND command --precision ${arg_PRECISION})
  endif()
  if(NOT EDGESPLIT_ROUNDING MATCHES "^(double|single)$")
    message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}(${name}): EDGESPLIT_ROUNDING "
                        "'${EDGESPLIT_ROUNDING}': expected double or single")
  endif()
  if("--rounding" IN_LIST arg_OPTIONS)
    message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}(${name}): set EDGESPLIT_ROUNDING instead of "
                        "OPTIONS --rounding: edgesplit::runtime, shared by every model, is built "
                        "for that one rule")
  endif()
  if(NOT arg_PRECISION STREQUAL "float32")
    list(APPEND command --rounding ${EDGESPLIT_ROUNDING})
  endif()
endmacro()

# The custom command of one compile: edgesplit writes the whole folder into `staging`, then the
# generated sources and the report are copied to `folder` only where their contents changed.
# Ninja (and make) then see an untouched file as up to date: a model saved again with the same
# contents recompiles nothing, and a changed weight recompiles weights.c and not the firmware
# sources that include model.h. The custom target `driver` runs it; the libraries and the gate
# depend on that target, so that no generator (make included) runs one compile twice in a
# parallel build. Uses the caller's `command`, `depends` and `arg_OPTIONS`.
function(_edgesplit_compile_command driver folder subfolders files comment)
  set(staging "${folder}.compile")
  set(outputs "${folder}/report.json" "${folder}/report.md")
  set(copies COMMAND "${CMAKE_COMMAND}" -E make_directory "${folder}"
             COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${staging}/report.json"
                     "${staging}/report.md" "${folder}")
  foreach(subfolder IN LISTS subfolders)
    set(sources)
    foreach(file IN LISTS files)
      list(APPEND sources "${staging}/${subfolder}/${file}")
      list(APPEND outputs "${folder}/${subfolder}/${file}")
    endforeach()
    list(APPEND copies COMMAND "${CMAKE_COMMAND}" -E make_directory "${folder}/${subfolder}"
                       COMMAND "${CMAKE_COMMAND}" -E copy_if_different ${sources}
                               "${folder}/${subfolder}")
  endforeach()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND edgesplit::edgesplit ${command} ${arg_OPTIONS} -o "${staging}" --force
    ${copies}
    DEPENDS ${depends}
    COMMENT "${comment}"
    VERBATIM)
  add_custom_target(${driver} DEPENDS ${outputs})
endfunction()

function(edgesplit_add_model name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "MODEL;TARGET;CALIBRATION;PRECISION;NAME;OUTPUT_DIR"
                        "OPTIONS")
  _edgesplit_common_arguments(${name})
  # The device's name: its folder and the prefix of its C API (<name>_init, ...), so that
  # several models link into one firmware.
  set(device "${name}")
  if(arg_NAME)
    set(device "${arg_NAME}")
  endif()
  if(NOT device MATCHES "^[A-Za-z0-9_-]+$")
    message(FATAL_ERROR "edgesplit_add_model(${name}): '${device}' cannot name the generated "
                        "device (A-Z a-z 0-9 _ -); give NAME")
  endif()
  list(APPEND command --name "${device}")
  if(arg_TARGET)
    set(target "${arg_TARGET}")
    _edgesplit_is_target_file(is_file "${target}")
    if(is_file)
      _edgesplit_absolute(target "${target}")
      list(APPEND depends "${target}")
    endif()
    list(APPEND command --target "${target}")
  endif()
  cmake_path(GET model FILENAME model_name)
  _edgesplit_compile_command(${name}_edgesplit "${folder}" "${device}" "model.h;model.c;weights.c"
                             "edgesplit: compiling ${model_name} for ${name}")
  _edgesplit_device_library(${name} "${folder}/${device}" FALSE)
  add_dependencies(${name} ${name}_edgesplit)
  set_target_properties(${name} PROPERTIES
    EDGESPLIT_REPORT "${folder}/report.json" EDGESPLIT_OUTPUT_DIR "${folder}")
  set_property(GLOBAL PROPERTY EDGESPLIT_REPORT_${name} "${folder}/report.json")
endfunction()

function(edgesplit_add_fleet prefix)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "MODEL;TOPOLOGY;CALIBRATION;PRECISION;OUTPUT_DIR"
                        "DEVICES;OPTIONS")
  _edgesplit_common_arguments(${prefix})
  if(NOT arg_TOPOLOGY)
    message(FATAL_ERROR "edgesplit_add_fleet(${prefix}): TOPOLOGY is required (the .json file)")
  endif()
  _edgesplit_absolute(topology "${arg_TOPOLOGY}")
  list(APPEND command --topology "${topology}")
  list(APPEND depends "${topology}")

  # The device names and target files come from the topology, read here so that DEVICES is
  # checked at configure time; a changed topology configures again.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${topology}")
  file(READ "${topology}" text)
  string(JSON count ERROR_VARIABLE problem LENGTH "${text}" devices)
  if(problem)
    message(FATAL_ERROR "edgesplit_add_fleet(${prefix}): ${topology}: ${problem}; "
                        "`edgesplit compile` names what is wrong with it")
  endif()
  cmake_path(GET topology PARENT_PATH topology_folder)
  set(known)
  if(count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(index RANGE ${last})
      string(JSON device ERROR_VARIABLE problem GET "${text}" devices ${index} name)
      string(JSON target ERROR_VARIABLE target_problem GET "${text}" devices ${index} target)
      if(problem OR target_problem)
        message(FATAL_ERROR "edgesplit_add_fleet(${prefix}): ${topology}: /devices/${index}: "
                            "name and target are required")
      endif()
      list(APPEND known "${device}")
      _edgesplit_is_target_file(is_file "${target}")
      if(is_file)
        cmake_path(ABSOLUTE_PATH target BASE_DIRECTORY "${topology_folder}" NORMALIZE)
        list(APPEND depends "${target}")
      endif()
    endforeach()
  endif()
  set(devices ${arg_DEVICES})
  if(NOT devices)
    set(devices ${known})
  endif()
  foreach(device IN LISTS devices)
    if(NOT device IN_LIST known)
      list(JOIN known ", " names)
      message(FATAL_ERROR "edgesplit_add_fleet(${prefix}): DEVICES names '${device}', which "
                          "${topology} does not define (devices: ${names})")
    endif()
  endforeach()

  cmake_path(GET model FILENAME model_name)
  _edgesplit_compile_command(${prefix}_edgesplit "${folder}" "${devices}"
                             "model.h;model.c;weights.c;fleet.h;fleet.c"
                             "edgesplit: compiling ${model_name} for the fleet ${prefix}")
  foreach(device IN LISTS devices)
    _edgesplit_device_library(${prefix}_${device} "${folder}/${device}" TRUE)
    add_dependencies(${prefix}_${device} ${prefix}_edgesplit)
    add_library(${prefix}::${device} ALIAS ${prefix}_${device})
    set_target_properties(${prefix}_${device} PROPERTIES
      EDGESPLIT_REPORT "${folder}/report.json" EDGESPLIT_OUTPUT_DIR "${folder}")
  endforeach()
  set_property(GLOBAL PROPERTY EDGESPLIT_REPORT_${prefix} "${folder}/report.json")
endfunction()

# Fails the build when the report of a model or fleet added above regressed against a committed
# baseline report beyond the limits (`edgesplit diff`, exit 1, the regression named in the build
# log); the markdown comparison lands in <binary dir>/<name>.md for a pull-request comment.
function(edgesplit_gate name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "REPORT_OF;BASELINE;MAX_INCREASE" "")
  if(arg_UNPARSED_ARGUMENTS OR NOT arg_REPORT_OF OR NOT arg_BASELINE)
    message(FATAL_ERROR "edgesplit_gate(${name} REPORT_OF <target-or-prefix> BASELINE "
                        "<report.json> [MAX_INCREASE ram=2%,...])")
  endif()
  get_property(report GLOBAL PROPERTY EDGESPLIT_REPORT_${arg_REPORT_OF})
  if(NOT report)
    message(FATAL_ERROR "edgesplit_gate(${name}): '${arg_REPORT_OF}' is no edgesplit_add_model "
                        "target or edgesplit_add_fleet prefix (add it before the gate)")
  endif()
  _edgesplit_absolute(baseline "${arg_BASELINE}")
  set(limits)
  if(arg_MAX_INCREASE)
    set(limits --max-increase "${arg_MAX_INCREASE}")
  endif()
  # The stamp is written only when diff passed, so a failed gate fails every build until the
  # report or the baseline changes.
  set(summary "${CMAKE_CURRENT_BINARY_DIR}/${name}.md")
  set(stamp "${CMAKE_CURRENT_BINARY_DIR}/${name}.passed")
  add_custom_command(
    OUTPUT "${stamp}"
    BYPRODUCTS "${summary}"
    COMMAND "${CMAKE_COMMAND}" -E rm -f "${stamp}"
    COMMAND edgesplit::edgesplit diff "${baseline}" "${report}" ${limits} --format md
            > "${summary}"
    COMMAND "${CMAKE_COMMAND}" -E touch "${stamp}"
    DEPENDS "${baseline}" "${report}" "$<TARGET_FILE:edgesplit::edgesplit>"
    COMMENT "edgesplit: checking ${arg_REPORT_OF}'s report against ${arg_BASELINE}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${stamp}")
  add_dependencies(${name} ${arg_REPORT_OF}_edgesplit)
endfunction()
