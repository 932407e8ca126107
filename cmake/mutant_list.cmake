# mutant_list.cmake - the deliberate protocol bugs of core/src/mutant.h, as
# the scripts that test the tester read them. include() it, then
#   mp_mutant_list(<mutant.h> <prefix>)
# sets <prefix>_NUMS, <prefix>_NAMES and <prefix>_WHATS: parallel lists of
# each mutant's number, MP_MUT_ name and one-line description.
function(mp_mutant_list header prefix)
  file(STRINGS "${header}" defs REGEX "^#define MP_MUT_[A-Z_0-9]+ +[0-9]+ +/\\*")
  set(nums)
  set(names)
  set(whats)
  foreach(line IN LISTS defs)
    if(line MATCHES "MP_MUT_([A-Z_0-9]+) +([0-9]+) +/\\* *(.*[^ ]) *\\*/")
      list(APPEND names "${CMAKE_MATCH_1}")
      list(APPEND nums "${CMAKE_MATCH_2}")
      list(APPEND whats "${CMAKE_MATCH_3}")
    endif()
  endforeach()
  if(NOT nums)
    message(FATAL_ERROR "no mutants found in ${header}")
  endif()
  set(${prefix}_NUMS "${nums}" PARENT_SCOPE)
  set(${prefix}_NAMES "${names}" PARENT_SCOPE)
  set(${prefix}_WHATS "${whats}" PARENT_SCOPE)
endfunction()
