# Installs config/eventide.conf as <sysconfdir>/eventide/eventide.conf, with
# GNUInstallDirs' special cases applied to the prefix given at install time
# (cmake --install --prefix, or cpack): /usr -> /etc, /opt/X -> /etc/opt/X.
# An edited config is kept: the new default then goes next to it as
# eventide.conf.default (the .deb has dpkg's conffile handling instead).
# Expects EVENTIDE_CONF_SOURCE and EVENTIDE_SYSCONFDIR (set by CMakeLists).
if(IS_ABSOLUTE "${EVENTIDE_SYSCONFDIR}")
  set(_dir "${EVENTIDE_SYSCONFDIR}")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
  set(_dir "/${EVENTIDE_SYSCONFDIR}")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/opt/([^/]+)/?$"
       AND EVENTIDE_SYSCONFDIR STREQUAL "etc")
  set(_dir "/etc/opt/${CMAKE_MATCH_1}")
else()
  set(_dir "${CMAKE_INSTALL_PREFIX}/${EVENTIDE_SYSCONFDIR}")
endif()
set(_dir "${_dir}/eventide")

set(_target "$ENV{DESTDIR}${_dir}/eventide.conf")
set(_name eventide.conf)
if(EXISTS "${_target}")
  file(SHA256 "${_target}" _old)
  file(SHA256 "${EVENTIDE_CONF_SOURCE}" _new)
  if(NOT _old STREQUAL _new)
    set(_name eventide.conf.default)
    message(STATUS "Keeping the edited ${_dir}/eventide.conf; "
                   "the new default is ${_dir}/eventide.conf.default")
  endif()
endif()
# file(INSTALL) prepends DESTDIR itself and records the file in the manifest.
file(INSTALL "${EVENTIDE_CONF_SOURCE}" DESTINATION "${_dir}"
     RENAME "${_name}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
