# Read after each project() by kontain.cmake (CMAKE_PROJECT_INCLUDE).
set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS FALSE)
