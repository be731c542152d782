"""The Virtual Observatory side of astroanom: tables other astronomy tools read.

- :mod:`astroanom.vo.votable`: the anomaly tables as VOTable, each column with its unit and UCD;
- :mod:`astroanom.vo.samp`: sending a table (``table.load.votable``) or a position
  (``coord.pointAt.sky``) to TOPCAT, Aladin or any SAMP client through a running hub;
- :mod:`astroanom.vo.crossmatch`: the offline cross-match of the exported objects against a
  catalogue the user gives (``known``, ``known_name``, ``known_sep_arcsec``).

Nothing here reaches the network: SAMP talks to a hub on this machine only.
"""
