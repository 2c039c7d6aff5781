# Finds cuDNN 9: the toolkit's own tree first, then a pip wheel (nvidia-cudnn-cu13: its include/
# and lib/), then CUDNN_ROOT. Defines the imported target naswot::cudnn.
set(_cudnn_hints ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR})
find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${_cudnn_hints} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
# The wheel ships only the versioned libcudnn.so.9 (no libcudnn.so): accept that name too.
find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 NAMES_PER_DIR HINTS ${_cudnn_hints} ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)
if(NOT CUDNN_INCLUDE_DIR OR NOT CUDNN_LIBRARY)
  message(FATAL_ERROR "cuDNN not found: set CUDNN_ROOT to a folder with include/cudnn.h and lib/libcudnn.so")
endif()
message(STATUS "naswot: cuDNN ${CUDNN_INCLUDE_DIR} ${CUDNN_LIBRARY}")
add_library(naswot::cudnn INTERFACE IMPORTED)
target_include_directories(naswot::cudnn INTERFACE ${CUDNN_INCLUDE_DIR})
target_link_libraries(naswot::cudnn INTERFACE ${CUDNN_LIBRARY})
