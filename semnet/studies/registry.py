"""The study registry: every study semnet can replicate, with its models, synthetic survey
and analysis plan.

A :class:`Study` bundles

* the paper it comes from (``title``, ``reference``);
* its model files (``models/<folder>/*.lav`` in the repository, shipped in the package):
  ``measurement``, ``structural`` (the paper's claims as labelled paths, latent
  interactions and ``:=`` effects), ``multigroup`` (one label per group), ``moderated``
  (the block fitted by LMS) and ``population`` (the documented true values);
* a synthetic survey drawn from the population model (:meth:`Study.simulate`: 7-point
  Likert items, skewed errors, missing answers; seeded) and committed as
  ``sample_data/<name>.csv``;
* the analysis plan, the list of steps its ``run`` carries out (:attr:`Study.plan`).

:func:`names`, :func:`list_studies` and :func:`get` read the registry; ``semnet studies``
and ``semnet replicate STUDY`` use them on the command line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semnet.datasets import bundled_path, read
from semnet.errors import DataError, SemnetError

__all__ = ["STUDIES", "Study", "get", "list_studies", "names"]

#: model files of a seed study (``<name>.lav`` in its models folder)
SEED_MODELS = ("measurement", "structural", "multigroup", "moderated", "population")


@dataclass(frozen=True)
class Study:
    """One registered study.

    Attributes
    ----------
    name : str
        Command-line name (``semnet replicate NAME``).
    title, reference : str
        What the study is and the paper it comes from.
    group : str
        Column of the groups the study compares; ``groups`` are their labels in order.
    constructs : mapping
        Factor -> its items (the measurement model); ``labels`` give readable names.
    covariates : tuple of str
        Observed variables of the structural model besides the items.
    models : str
        Folder of the model files under ``models/`` (``""``: ``models/`` itself).
    model_names : tuple of str
        The model files the study needs.
    sizes : mapping
        Firms per group of the synthetic survey; ``sample_seed`` its seed.
    key_effect, planted : str
        The paper's key effect (a ``:=`` name or label of the multi-group model) and the
        planted non-invariant parameter; what power planning asks about.
    plan : tuple of str
        The analysis plan: the steps ``run`` carries out, in order.
    runner : callable
        ``runner(study, data, out, **options)`` runs the plan and writes the outputs.
    skew : mapping
        (skewness, excess kurtosis) of variables besides the items (whose errors get
        (-0.5, 0.5)).
    finish : callable, optional
        Turns the simulated frame into the survey's columns (rescaling, dichotomising).
    """

    name: str
    title: str
    reference: str
    group: str
    groups: tuple[str, ...]
    constructs: Mapping[str, tuple[str, ...]]
    labels: Mapping[str, str]
    models: str
    model_names: tuple[str, ...]
    sizes: Mapping[str, int]
    sample_seed: int
    key_effect: str
    planted: str
    plan: tuple[str, ...]
    runner: Callable[..., Any] = field(repr=False)
    covariates: tuple[str, ...] = ()
    skew: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    finish: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def items(self) -> list[str]:
        """Every item of the measurement model, factor by factor."""
        return [i for items in self.constructs.values() for i in items]

    @property
    def required(self) -> list[str]:
        """The columns a data set needs to run the study."""
        return [self.group, *self.items, *self.covariates]

    @property
    def data_name(self) -> str:
        """File name of the committed synthetic survey."""
        return self.name.replace("-", "_") + ".csv"

    def model_files(self, models_dir: str | Path | None = None) -> dict[str, str]:
        """The text of the study's model files, by name (default: the shipped ones).

        Examples
        --------
        >>> from semnet.studies import get
        >>> sorted(get("indirect-export").model_files())[:2]
        ['measurement', 'moderated']
        """
        checkout = "/".join(p for p in ("models", self.models) if p)
        if models_dir is None:
            folder = bundled_path("semnet.studies", checkout, checkout)
            if folder is None:
                raise SemnetError(f"the model files of study {self.name!r} are missing from "
                                  "this semnet install; reinstall semnet.")  # fmt: skip
        else:
            folder = Path(models_dir)
        missing = [n for n in self.model_names if not folder.joinpath(f"{n}.lav").is_file()]
        if missing:
            raise SemnetError(
                f"the models folder {str(folder)!r} lacks "
                f"{', '.join(f'{n}.lav' for n in missing)}; pass a folder holding "
                f"{', '.join(f'{n}.lav' for n in self.model_names)} (copy the '{checkout}/' "
                "folder of the semnet repository to change them)."
            )
        return {n: folder.joinpath(f"{n}.lav").read_text(encoding="utf-8")
                for n in self.model_names}  # fmt: skip

    def data_path(self) -> Path:
        """The committed synthetic survey (``sample_data/<name>.csv``)."""
        path = bundled_path("semnet.datasets", self.data_name, f"sample_data/{self.data_name}")
        if path is None:
            raise SemnetError(f"the synthetic survey {self.data_name} is missing from this "
                              "semnet install; reinstall semnet.")  # fmt: skip
        return Path(str(path))

    def simulate(self, sizes: Mapping[str, int] | None = None,
                 seed: int | None = None) -> pd.DataFrame:  # fmt: skip
        """Draw a synthetic survey from the population model.

        7-point Likert items with skewed errors (skewness -0.5, excess kurtosis 0.5) and
        3% of the answers of every item missing completely at random; ``sizes`` firms per
        group (default :attr:`sizes`) and ``seed`` (default :attr:`sample_seed`).

        Examples
        --------
        >>> from semnet.studies import get
        >>> get("indirect-export").simulate({"indirect": 50, "direct": 40}, seed=1).shape
        (90, 32)
        """
        from semnet.simulate import simulate

        population = self.model_files()["population"]
        data = simulate(
            population, dict(sizes or self.sizes), groups=list(self.groups),
            seed=self.sample_seed if seed is None else seed,
            likert=dict.fromkeys(self.items, 7),
            skew={**dict.fromkeys(self.items, (-0.5, 0.5)), **self.skew},
            missing={"mcar": 0.03, "columns": self.items}, group_column=self.group,
        )  # fmt: skip
        if self.finish is not None:
            data = self.finish(data)
        return data[[*self.required, *(c for c in data.columns if c not in self.required)]]

    def load(self, data: pd.DataFrame | str | Path | None) -> tuple[pd.DataFrame, str]:
        """The survey as a DataFrame and the SHA-256 of its content, its columns checked.

        ``None`` is the committed synthetic survey.

        Raises
        ------
        DataError
            The data lack columns the study needs (named in the message).

        Examples
        --------
        >>> from semnet.studies import get
        >>> frame, digest = get("indirect-export").load(None)
        >>> len(digest)
        64
        """
        if data is None:
            data = self.data_path()
        if isinstance(data, str | Path):
            frame = read(data, value_labels=[self.group])
            digest = hashlib.sha256(Path(data).read_bytes()).hexdigest()
        elif isinstance(data, pd.DataFrame):
            frame = data.copy()
            digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
        else:
            raise DataError("data must be a DataFrame or the path of a data file.")
        missing = [c for c in self.required if c not in frame.columns]
        if missing:
            raise DataError(
                f"the data lack the column(s) {', '.join(missing)}; study {self.name!r} "
                f"needs {', '.join(self.required)}."
            )
        return frame, digest

    def run(self, data: pd.DataFrame | str | Path | None = None, out: str | Path = "out",
            **options: Any) -> Any:  # fmt: skip
        """Run the analysis plan on ``data`` (default: the synthetic survey) into ``out``.

        ``options`` are those of the study's runner (``seed``, ``bootstrap``,
        ``models_dir``, ``progress``, ``overwrite``, ``jobs``; the network-involvement
        study also ``weights``).

        Examples
        --------
        >>> from semnet.studies import get
        >>> get("indirect-export").run(out="out", bootstrap=50)  # doctest: +SKIP
        """
        return self.runner(self, data, out, **options)


def _run_network_involvement(study: Study, data: Any, out: Any, **options: Any) -> Any:
    from semnet.studies.network_involvement import run

    return run(data, out, **options)


def _run_seed(study: Study, data: Any, out: Any, **options: Any) -> Any:
    from semnet.studies.plan import run

    return run(study, data, out, **options)


def _network_finish(data: pd.DataFrame) -> pd.DataFrame:
    data = data.copy()
    data["firm_size"] = np.round(3.6 + 0.9 * data["firm_size"], 2)
    data["firm_age"] = np.clip(np.round(18.0 + 9.0 * data["firm_age"]), 1, None).astype(np.int64)
    return data


def _dichotomise_xr(data: pd.DataFrame) -> pd.DataFrame:
    data = data.copy()
    data["xr"] = (data["xr"] > 0).astype(np.int64)
    return data


def _network_involvement() -> Study:
    import semnet.studies.network_involvement as ni

    return Study(
        name="network-involvement",
        title="Network involvement and the internationalization of SMEs (USA, China, Russia)",
        reference="Mikhailitchenko, A. (2021). Antecedents and Outcomes of Network "
        "Involvement in the Internationalization Process: A Case of SMEs from the USA, "
        "China, and Russia. Organizations and Markets in Emerging Economies 12(1), 6-26.",
        group=ni.GROUP, groups=("USA", "China", "Russia"),
        constructs={k: tuple(v) for k, v in ni.CONSTRUCTS.items()}, labels=dict(ni.LABELS),
        models="", model_names=(*ni.MODELS, "population"),
        sizes={"USA": 320, "China": 350, "Russia": 280}, sample_seed=20210612,
        key_effect="doi~ni:et", planted="ni=~ni3",
        plan=tuple(name for name, _ in ni.STEPS), runner=_run_network_involvement,
        skew={"firm_age": (1.0, 1.5)}, finish=_network_finish,
    )  # fmt: skip


def _indirect_export() -> Study:
    return Study(
        name="indirect-export",
        title="Take-off and initial internationalization of Chinese SMEs: indirect export "
        "and industrial clusters (indirect vs direct exporters)",
        reference="Initial internationalization of Chinese SMEs: indirect export and "
        "industrial clusters (working paper; five exporting SMEs in Jiangsu/Shanghai, "
        "interviews 2006). Seed paper 002.",
        group="exportmode", groups=("indirect", "direct"),
        constructs={
            "IDX": ("ix1", "ix2", "ix3", "ix4"), "DBN": ("db1", "db2", "db3", "db4"),
            "DIR": ("dr1", "dr2", "dr3", "dr4", "dr5"),
            "IEK": ("ik1", "ik2", "ik3", "ik4", "exs"), "CLE": ("ce1", "ce2", "ce3", "ce4"),
            "CLC": ("cc1", "cc2", "cc3", "cc4"), "INTX": ("xt1", "xt2", "xt3", "xt4"),
        },
        labels={"IDX": "Reliance on indirect export", "DBN": "Domestic business network",
                "DIR": "Direct international relationships",
                "IEK": "International experiential knowledge", "CLE": "Cluster embeddedness",
                "CLC": "Cluster collaboration", "INTX": "Internationalization extent"},
        covariates=("xr",), models="indirect_export", model_names=SEED_MODELS,
        sizes={"indirect": 350, "direct": 350}, sample_seed=2006,
        key_effect="d_a2", planted="IEK=~exs", plan=SEED_PLAN, runner=_run_seed,
        finish=_dichotomise_xr,
    )  # fmt: skip


def _gvc_position() -> Study:
    pre = {"ENW": "en", "NCH": "nc", "CTS": "ct", "GVE": "ge", "PA": "pa", "POS": "ps",
           "HIS": "hi", "PMT": "pm", "MKA": "mk", "UPG": "up", "PIG": "pg", "NMS": "ms",
           "NCP": "nk"}  # fmt: skip
    return Study(
        name="gvc-position",
        title="Networks and GVC position of Chinese EE-SMEs (OEM/ODM suppliers vs OBM "
        "firms)",
        reference="Su, F., Khan, Z., Lew, Y.K., Park, B.I. & Choksy, U.S. (2020). "
        "Internationalization of Chinese SMEs: the role of networks and global value "
        "chains. BRQ Business Research Quarterly 23(2), 141-158. Seed paper 000.",
        group="gvc_role", groups=("oem", "obm"),
        constructs={f: tuple(f"{p}{i}" for i in (1, 2, 3)) for f, p in pre.items()},
        labels={"ENW": "Entrepreneur's personal network", "NCH": "Networking channels",
                "CTS": "Customer tie strength", "GVE": "GVC engagement",
                "PA": "Power asymmetry", "POS": "GVC position",
                "HIS": "Home institutional support", "PMT": "Peer mistrust",
                "MKA": "Market knowledge acquisition", "UPG": "GVC upgrading",
                "PIG": "Post-internationalization growth",
                "NMS": "Network-driven market selection",
                "NCP": "Network capability"},
        models="gvc_position", model_names=SEED_MODELS,
        sizes={"oem": 350, "obm": 350}, sample_seed=2019,
        key_effect="d_n1", planted="PA=~pa2", plan=SEED_PLAN, runner=_run_seed,
    )  # fmt: skip


def _ethnic_ties() -> Study:
    return Study(
        name="ethnic-ties",
        title="Business and ethnic-group social networks of Chinese SMEs (local vs "
        "returnee founders)",
        reference="Lew, Y.K., Khan, Z., Rao-Nicholson, R. & He, S. Internationalization "
        "process of Chinese SMEs: the role of business and ethnic-group based social "
        "networks (manuscript). Seed paper 001.",
        group="founder", groups=("local", "returnee"),
        constructs={
            "ETH": ("et1", "et2", "et3", "et4", "et5"), "MNE": ("mn1", "mn2", "mn3", "mn4"),
            "HSN": ("hs1", "hs2", "hs3", "hs4"), "TMP": ("tf1", "tf2", "tf3"),
            "OPR": ("op1", "op2", "op3"), "MKN": ("mk1", "mk2", "mk3", "mk4", "mk5"),
            "REP": ("rp1", "rp2", "rp3"), "RSK": ("rk1", "rk2", "rk3"),
            "INTS": ("is1", "is2", "is3", "is4"),
        },
        labels={"ETH": "Ethnic (diaspora) ties", "MNE": "Business ties with MNEs",
                "HSN": "Home-region social network", "TMP": "Intermediate networks",
                "OPR": "Opportunity recognition", "MKN": "Foreign market knowledge",
                "REP": "Reputation with foreign clients", "RSK": "Risk-taking entry",
                "INTS": "International success"},
        covariates=("div", "emc"), models="ethnic_ties", model_names=SEED_MODELS,
        sizes={"local": 350, "returnee": 350}, sample_seed=2014,
        key_effect="d_tot_ETH", planted="ETH=~et4", plan=SEED_PLAN, runner=_run_seed,
        finish=_round_covariates,
    )  # fmt: skip


def _round_covariates(data: pd.DataFrame) -> pd.DataFrame:
    data = data.copy()
    data[["div", "emc"]] = data[["div", "emc"]].round(3)
    return data


def _gvc_upgrading() -> Study:
    return Study(
        name="gvc-upgrading",
        title="Strategic networks and SME upgrading in global value chains (Japan vs "
        "South Korea)",
        reference="Kang, S. & Kim, C. (2023). How do strategic networks help SMEs upgrade "
        "in global value chains? A cross-national analysis. Taylor & Francis, article "
        "2202833. Seed paper 003.",
        group="country", groups=("Japan", "Korea"),
        constructs={
            "RGL": ("rg1", "rg2", "rg3", "rg4", "rg5"), "RSI": ("ri1", "ri2", "ri3"),
            "SMN": ("sm1", "sm2", "sm3", "sm4", "sm5"), "PAS": ("pa1", "pa2", "pa3", "pa4"),
            "LLO": ("ll1", "ll2", "ll3"), "KLS": ("kl1", "kl2", "kl3", "kl4"),
            "TEC": ("tc1", "tc2", "tc3", "tc4"), "PRC": ("pr1", "pr2", "pr3"),
            "PRD": ("pd1", "pd2", "pd3"), "FUN": ("fu1", "fu2", "fu3"),
            "CHN": ("ch1", "ch2", "ch3"),
        },
        labels={"RGL": "Relational governance", "RSI": "Relationship-specific investment",
                "SMN": "Strategic multi-partner networks", "PAS": "Power asymmetry",
                "LLO": "Lack of learning opportunities",
                "KLS": "Knowledge learning and skills", "TEC": "Technological capability",
                "PRC": "Process upgrading", "PRD": "Product upgrading",
                "FUN": "Functional upgrading", "CHN": "Chain upgrading",
                "UPG": "GVC upgrading (second order)"},
        models="gvc_upgrading", model_names=SEED_MODELS,
        sizes={"Japan": 350, "Korea": 350}, sample_seed=2023,
        key_effect="d_route", planted="RGL=~rg3", plan=SEED_PLAN, runner=_run_seed,
    )  # fmt: skip


#: the steps of a seed study's run (:mod:`semnet.studies.plan`)
SEED_PLAN = ("descriptives", "reliability", "invariance", "structural", "moderation",
             "mediation")  # fmt: skip

#: the registered studies, by name, in listing order
STUDIES: dict[str, Study] = {
    s.name: s
    for s in (_network_involvement(), _gvc_position(), _ethnic_ties(), _indirect_export(),
              _gvc_upgrading())
}


def names() -> list[str]:
    """The names of the registered studies.

    Examples
    --------
    >>> from semnet.studies import names
    >>> names()[0]
    'network-involvement'
    """
    return list(STUDIES)


def list_studies() -> list[Study]:
    """The registered studies, in listing order.

    Examples
    --------
    >>> from semnet.studies import list_studies
    >>> [s.name for s in list_studies()][:2]
    ['network-involvement', 'gvc-position']
    """
    return list(STUDIES.values())


def get(name: str) -> Study:
    """The study called ``name`` (underscores may stand for hyphens).

    Raises
    ------
    SemnetError
        No study has that name (the message lists them).

    Examples
    --------
    >>> from semnet.studies import get
    >>> get("indirect-export").group
    'exportmode'
    """
    key = str(name).replace("_", "-")
    if key not in STUDIES:
        raise SemnetError(f"no study called {name!r}; the studies are: {', '.join(STUDIES)} "
                          "(semnet studies lists them).")  # fmt: skip
    return STUDIES[key]
