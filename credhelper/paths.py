"""Every file location, from environment overrides over platformdirs' defaults.

This is the only importer of platformdirs. It is imported lazily: the credential helper's
cache-hit path cannot afford it (pathlib, tempfile, enum and re come with it), so that
path uses `fast_cache_dir` and `fast_config_file`, stdlib mirrors of platformdirs' rules
for Linux and macOS. A mirror that disagrees with platformdirs only costs speed, never
correctness: the hit path then finds nothing and the full path runs (tests compare both).
"""

import sys

from credhelper import fastos

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

APP = "ecr-sso"
CONFIG_NAME = "config.toml"


class Paths:
    """The resolved locations for one run. Build it once with `from_environ` and pass it on."""

    __slots__ = (
        "aws_config_file",
        "cache_dir",
        "config_file",
        "data_dir",
        "docker_config_dir",
        "home",
        "log_dir",
        "sso_cache_dir",
        "state_dir",
    )

    def __init__(
        self,
        *,
        home: str,
        config_file: str,
        cache_dir: str,
        data_dir: str,
        log_dir: str,
        aws_config_file: str,
        docker_config_dir: str,
        state_dir: str,
    ) -> None:
        self.home = home
        self.config_file = config_file
        self.cache_dir = cache_dir
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.aws_config_file = aws_config_file
        self.docker_config_dir = docker_config_dir
        #: Our state: the lock every edit of the user's files takes, and setup's record of
        #: the files as they were before it first changed them.
        self.state_dir = state_dir
        # Fixed by the AWS CLI and botocore: always under the home directory (`home` is
        # os.path.expanduser's rule, as theirs).
        self.sso_cache_dir = fastos.join(home, ".aws", "sso", "cache")

    @classmethod
    def from_environ(cls, environ: "Mapping[str, str]") -> "Paths":
        """Resolve every location: our `ECR_SSO_*` overrides, then the AWS and Docker
        variables, then platformdirs' per-user defaults."""
        import platformdirs

        def xdg_or(name: str, default: str) -> str:
            # The XDG variables first, on macOS too: platformdirs honours them there only
            # in recent releases, and the fast path and install.sh always do.
            base = _xdg(environ, name)
            return fastos.join(base, APP) if base is not None else default

        home = _home()
        config_file = environ.get("ECR_SSO_CONFIG") or fastos.join(
            xdg_or("XDG_CONFIG_HOME", platformdirs.user_config_dir(APP, appauthor=False)),
            CONFIG_NAME,
        )
        return cls(
            home=home,
            config_file=config_file,
            cache_dir=environ.get("ECR_SSO_CACHE_DIR")
            or xdg_or("XDG_CACHE_HOME", platformdirs.user_cache_dir(APP, appauthor=False)),
            data_dir=xdg_or("XDG_DATA_HOME", platformdirs.user_data_dir(APP, appauthor=False)),
            log_dir=platformdirs.user_log_dir(APP, appauthor=False),
            aws_config_file=aws_config_file(environ),
            docker_config_dir=environ.get("DOCKER_CONFIG") or fastos.join(home, ".docker"),
            state_dir=platformdirs.user_state_dir(APP, appauthor=False),
        )

    @property
    def docker_config_file(self) -> str:
        """Docker's `config.json`."""
        return fastos.join(self.docker_config_dir, "config.json")


def _home() -> str:
    """The home folder as botocore, the AWS CLI and platformdirs find it: they all call
    `os.path.expanduser`, and `fastos.expanduser` is its POSIX rule (HOME, else the password
    database) without importing `os`. It reads the process's environment, as they do (the
    `environ` given to the resolvers is that environment in every real run)."""
    return fastos.expanduser("~")


def aws_config_file(environ: "Mapping[str, str]") -> str:
    """The AWS config file, as botocore finds it: `AWS_CONFIG_FILE`, else `~/.aws/config`,
    with `~` expanded by `os.path.expanduser`'s rule, as botocore expands it."""
    configured = environ.get("AWS_CONFIG_FILE") or fastos.join("~", ".aws", "config")
    return fastos.expanduser(configured)


def aws_credentials_file(environ: "Mapping[str, str]") -> str:
    """The AWS shared credentials file, as botocore finds it (`AWS_SHARED_CREDENTIALS_FILE`,
    else `~/.aws/credentials`)."""
    configured = environ.get("AWS_SHARED_CREDENTIALS_FILE")
    if configured:
        return fastos.expanduser(configured)
    return fastos.join(_home(), ".aws", "credentials")


def _xdg(environ: "Mapping[str, str]", name: str) -> str | None:
    # As platformdirs: an XDG variable counts only when it holds an absolute path.
    value = environ.get(name, "")
    return value if value.startswith("/") else None


def fast_cache_dir(environ: "Mapping[str, str]") -> str | None:
    """The cache directory by platformdirs' rules, without importing it; None where the
    rules are not mirrored here (then the caller takes the full path)."""
    if environ.get("ECR_SSO_CACHE_DIR"):
        return environ["ECR_SSO_CACHE_DIR"]
    base = _xdg(environ, "XDG_CACHE_HOME")
    if base is None:
        if sys.platform.startswith("linux"):
            base = fastos.join(_home(), ".cache")
        elif sys.platform == "darwin":
            base = fastos.join(_home(), "Library", "Caches")
        else:
            return None
    return fastos.join(base, APP)


def fast_config_file(environ: "Mapping[str, str]") -> str | None:
    """Our config file by platformdirs' rules, without importing it; None where not mirrored."""
    if environ.get("ECR_SSO_CONFIG"):
        return environ["ECR_SSO_CONFIG"]
    base = _xdg(environ, "XDG_CONFIG_HOME")
    if base is None:
        if sys.platform.startswith("linux"):
            base = fastos.join(_home(), ".config")
        elif sys.platform == "darwin":
            base = fastos.join(_home(), "Library", "Application Support")
        else:
            return None
    return fastos.join(base, APP, CONFIG_NAME)
