"""Generate Segment Studio's sample CRM export, its ground truth and orders.

The customers file imitates what a French B2B SaaS vendor gets when a
salesperson opens the CRM export in Excel (French locale) and saves it as
CSV: ``;`` delimiter, Windows-1252, no BOM, CRLF, decimal comma,
``dd/mm/yyyy`` dates and amounts such as ``12 400,50 €`` with U+00A0 as
thousands separator. About 8 % of the customers appear two or three times
with the variations real CRMs accumulate (typos, dropped accents, upper
case, swapped names, another e-mail, another phone format, another legal
form), and five latent customer types drive the numbers so that a
clustering tool has something to find.

Everything is drawn from one ``numpy.random.Generator`` with a fixed seed
and rendered with vectorised string operations, so the output is byte for
byte identical for the same arguments and a million customers take well
under a minute.

Usage::

    python sample_data/generate.py                      # sample_data/*.csv
    python sample_data/generate.py --rows 100000 --out benchmarks/data
    python sample_data/generate.py --rows 1000000 --out benchmarks/data --no-orders

Tests and benchmarks import this file by path (``sample_data`` is not a
package) and call :func:`generate` and the ``write_*`` functions.

Scaling note: the name vocabularies are fixed, so at hundreds of thousands
of customers person and company names repeat much more than in the
5,000-customer sample; work e-mails, personal e-mails and company domains
stay unique per customer and per company at every size.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_CUSTOMERS = 5_000
DEFAULT_SEED = 20_261_101

#: Columns of the customers file, in the CRM's order.
CUSTOMER_COLUMNS = [
    "ID client",
    "Société",
    "Secteur",
    "Taille",
    "Région",
    "Prénom",
    "Nom",
    "E-mail",
    "Téléphone",
    "Code postal",
    "Ville",
    "Date de création",
    "Dernière activité",
    "Fréquence d'utilisation",
    "Tickets support",
    "Maturité digitale",
    "Valeur contrat",
    "Consentement",
]

NBSP = "\u00a0"  # French Excel's thousands separator; 0xA0 in cp1252.

# Calendar: every date is stored as days since EPOCH and rendered through a
# lookup table, which is much faster than formatting a million timestamps.
EPOCH = np.datetime64("2015-01-01", "D")
REFERENCE_DATE = np.datetime64("2026-11-01", "D")  # the export date
LAST_CREATION = np.datetime64("2025-12-31", "D")
_REF = int((REFERENCE_DATE - EPOCH).astype(int))
_LAST_CREATION = int((LAST_CREATION - EPOCH).astype(int))
STALE_DAYS = 365  # "no activity for more than 12 months"

# ---------------------------------------------------------------------------
# Latent customer types. Rows of the per-type tables below follow this order.
# ---------------------------------------------------------------------------
TYPES = [
    "grands comptes",  # high value heavy users, mostly in Île-de-France
    "petits comptes",  # small, low usage, few tickets
    "support intensif",  # mid-sized, many support tickets
    "dormants",  # no activity for more than a year
    "PME engagées",  # regional SMEs growing with the product
]
TYPE_SHARES = np.array([0.14, 0.33, 0.14, 0.13, 0.26])  # of companies
# Probability that a company has 2-4 contacts in the CRM (about 15 % overall).
MULTI_CONTACT_P = np.array([0.36, 0.07, 0.15, 0.08, 0.15])

SIZES = ["TPE", "PME", "ETI", "GE"]
SIZE_P = np.array(
    [
        [0.02, 0.18, 0.45, 0.35],
        [0.75, 0.23, 0.02, 0.00],
        [0.25, 0.55, 0.15, 0.05],
        [0.55, 0.38, 0.06, 0.01],
        [0.15, 0.70, 0.13, 0.02],
    ]
)

SECTORS = [
    "Industrie",
    "Commerce",
    "Services",
    "Santé",
    "BTP",
    "Tech",
    "Transport",
    "Agroalimentaire",
    "Finance",
    "Éducation",
]
SECTOR_P = np.array(
    [
        [0.18, 0.07, 0.18, 0.10, 0.04, 0.22, 0.06, 0.05, 0.08, 0.02],
        [0.06, 0.25, 0.15, 0.08, 0.18, 0.03, 0.07, 0.14, 0.02, 0.02],
        [0.15, 0.12, 0.12, 0.15, 0.10, 0.08, 0.10, 0.10, 0.04, 0.04],
        [0.12, 0.18, 0.12, 0.06, 0.16, 0.04, 0.10, 0.14, 0.03, 0.05],
        [0.14, 0.10, 0.20, 0.08, 0.08, 0.16, 0.08, 0.08, 0.05, 0.03],
    ]
)

# Sessions per week: gamma(shape, scale); support tickets: negative binomial
# with this mean; contract value: log-normal(median, sigma) in euros.
USAGE_GAMMA = np.array([[6.0, 2.5], [1.5, 0.7], [4.0, 1.1], [0.6, 0.4], [5.0, 1.4]])
TICKETS_MEAN = np.array([3.0, 0.6, 14.0, 0.4, 2.0])
VALUE_MEDIAN = np.array([60_000.0, 1_200.0, 7_000.0, 3_000.0, 14_000.0])
VALUE_SIGMA = np.array([0.45, 0.50, 0.45, 0.60, 0.45])

MATURITY = ["Faible", "Moyenne", "Élevée"]
MATURITY_P = np.array(
    [
        [0.03, 0.17, 0.80],
        [0.65, 0.30, 0.05],
        [0.45, 0.45, 0.10],
        [0.60, 0.32, 0.08],
        [0.10, 0.65, 0.25],
    ]
)

# Creation date: Beta(a, b) over [2015-01-01, last]; dormant customers are older.
CREATION_BETA = np.array([[1.3, 1.3], [2.0, 1.2], [1.5, 1.5], [1.2, 2.5], [1.8, 1.3]])
CREATION_LAST = np.array([_LAST_CREATION] * 3 + [3_100, _LAST_CREATION])  # 3100 ≈ mid-2023
# Probability of being stale, and mean days since last activity otherwise.
STALE_P = np.array([0.03, 0.09, 0.04, 0.95, 0.03])
ACTIVE_RECENCY_DAYS = np.array([10.0, 45.0, 20.0, 150.0, 25.0])

# Orders: mean count per customer, log-normal median amount, and the mix of
# categories and channels.
ORDERS_MEAN = np.array([16.0, 3.0, 6.0, 4.0, 9.0])
ORDER_MEDIAN = np.array([2_400.0, 90.0, 450.0, 300.0, 800.0])
ORDER_CATEGORIES = ["Abonnement", "Licences", "Modules", "Formation", "Support", "Conseil"]
ORDER_CATEGORY_P = np.array(
    [
        [0.30, 0.25, 0.20, 0.08, 0.05, 0.12],
        [0.70, 0.10, 0.10, 0.05, 0.03, 0.02],
        [0.35, 0.10, 0.10, 0.10, 0.30, 0.05],
        [0.60, 0.15, 0.10, 0.10, 0.03, 0.02],
        [0.40, 0.20, 0.20, 0.10, 0.04, 0.06],
    ]
)
ORDER_CHANNELS = ["Web", "Commercial", "Partenaire", "Téléphone"]
ORDER_CHANNEL_P = np.array(
    [
        [0.15, 0.65, 0.10, 0.10],
        [0.70, 0.05, 0.15, 0.10],
        [0.35, 0.25, 0.10, 0.30],
        [0.50, 0.15, 0.20, 0.15],
        [0.40, 0.35, 0.15, 0.10],
    ]
)


def _words(text: str) -> list[str]:
    """Split a whitespace-separated vocabulary (keeps long lists compact)."""
    return text.split()


def _cities(text: str) -> list[tuple[str, str, float]]:
    """Parse ``"City postcode weight; ..."`` into ``(city, postcode, weight)``."""
    entries = [item.rsplit(" ", 2) for item in text.split(";") if item.strip()]
    return [(city.strip(), postcode, float(weight)) for city, postcode, weight in entries]


# ---------------------------------------------------------------------------
# Geography: the 13 metropolitan regions, with cities, postcodes (text, some
# with a leading zero) and relative weights. The phone zone (01-05) is the
# region's, except in the east of Occitanie (04).
# ---------------------------------------------------------------------------
REGIONS = {
    "Île-de-France": (
        1,
        [("Paris", f"750{i:02d}", 1.5) for i in range(1, 21)]
        + _cities(
            "Boulogne-Billancourt 92100 2; Nanterre 92000 1.5; Courbevoie 92400 1.5; "
            "Issy-les-Moulineaux 92130 1.5; Saint-Denis 93200 1.5; Montreuil 93100 1.5; Versailles 78000 1.5; "
            "Créteil 94000 1; Vincennes 94300 0.8; Argenteuil 95100 1; Cergy 95000 1; "
            "Évry-Courcouronnes 91000 1; Massy 91300 1; Meaux 77100 0.8; Melun 77000 0.8"
        ),
    ),
    "Auvergne-Rhône-Alpes": (
        4,
        [("Lyon", f"6900{i}", 1.2) for i in range(1, 10)]
        + _cities(
            "Villeurbanne 69100 2; Grenoble 38000 3; Saint-Étienne 42000 2.5; Clermont-Ferrand 63000 2.5; "
            "Annecy 74000 2; Chambéry 73000 1.2; Valence 26000 1.2; Roanne 42300 0.6; "
            "Bourg-en-Bresse 01000 1; Moulins 03000 0.5; Montluçon 03100 0.5; Vichy 03200 0.5; "
            "Privas 07000 0.3; Aurillac 15000 0.4; Le Puy-en-Velay 43000 0.4"
        ),
    ),
    "Provence-Alpes-Côte d'Azur": (
        4,
        [("Marseille", f"130{i:02d}", 0.5) for i in range(1, 17)]
        + _cities(
            "Nice 06000 4; Nice 06100 1; Nice 06200 1; Toulon 83000 2.5; Aix-en-Provence 13100 2.5; "
            "Avignon 84000 1.5; Cannes 06400 1.5; Antibes 06600 1.2; Valbonne 06560 0.8; Fréjus 83600 0.8; "
            "Gap 05000 0.5; Digne-les-Bains 04000 0.4"
        ),
    ),
    "Hauts-de-France": (
        3,
        _cities(
            "Lille 59000 5; Roubaix 59100 1.5; Tourcoing 59200 1.2; Villeneuve-d'Ascq 59650 1.5; "
            "Dunkerque 59140 1.2; Valenciennes 59300 1.2; Amiens 80000 2; Calais 62100 1; Arras 62000 1; "
            "Boulogne-sur-Mer 62200 0.8; Beauvais 60000 1; Compiègne 60200 0.8; Saint-Quentin 02100 0.8; "
            "Laon 02000 0.5; Soissons 02200 0.5"
        ),
    ),
    "Grand Est": (
        3,
        _cities(
            "Strasbourg 67000 5; Reims 51100 2.5; Metz 57000 2.5; Nancy 54000 2.5; Mulhouse 68100 2; "
            "Colmar 68000 1.2; Troyes 10000 1.2; Thionville 57100 1; Charleville-Mézières 08000 0.8; "
            "Épinal 88000 0.8; Châlons-en-Champagne 51000 0.7; Sedan 08200 0.4"
        ),
    ),
    "Occitanie": (
        5,
        _cities(
            "Toulouse 31000 6; Toulouse 31200 1.5; Toulouse 31400 1.5; Blagnac 31700 1; Montpellier 34000 4; "
            "Nîmes 30000 2; Perpignan 66000 2; Béziers 34500 1.2; Montauban 82000 1; Albi 81000 0.8; "
            "Castres 81100 0.6; Carcassonne 11000 0.8; Tarbes 65000 0.8; Rodez 12000 0.7; Auch 32000 0.4; "
            "Cahors 46000 0.4; Foix 09000 0.3; Pamiers 09100 0.3; Mende 48000 0.2"
        ),
    ),
    "Nouvelle-Aquitaine": (
        5,
        _cities(
            "Bordeaux 33000 5; Mérignac 33700 1.5; Pessac 33600 1; Limoges 87000 2; Poitiers 86000 1.5; "
            "Pau 64000 1.5; Bayonne 64100 1.2; La Rochelle 17000 1.5; Angoulême 16000 1; Niort 79000 1; "
            "Périgueux 24000 0.8; Agen 47000 0.8; Brive-la-Gaillarde 19100 0.7; Mont-de-Marsan 40000 0.6; "
            "Guéret 23000 0.3"
        ),
    ),
    "Bretagne": (
        2,
        _cities(
            "Rennes 35000 5; Brest 29200 2.5; Quimper 29000 1.5; Vannes 56000 1.5; Lorient 56100 1.2; "
            "Saint-Malo 35400 1; Saint-Brieuc 22000 1; Lannion 22300 0.6"
        ),
    ),
    "Normandie": (
        2,
        _cities(
            "Rouen 76000 3.5; Caen 14000 3; Le Havre 76600 2.5; Cherbourg-en-Cotentin 50100 1; "
            "Évreux 27000 1; Dieppe 76200 0.6; Alençon 61000 0.6; Saint-Lô 50000 0.5; Lisieux 14100 0.5"
        ),
    ),
    "Pays de la Loire": (
        2,
        _cities(
            "Nantes 44000 5; Saint-Herblain 44800 1; Saint-Nazaire 44600 1.2; Angers 49000 2.5; "
            "Cholet 49300 0.8; Le Mans 72000 2; La Roche-sur-Yon 85000 1; Laval 53000 0.8"
        ),
    ),
    "Bourgogne-Franche-Comté": (
        3,
        _cities(
            "Dijon 21000 3; Besançon 25000 2.5; Montbéliard 25200 0.8; Belfort 90000 1; "
            "Chalon-sur-Saône 71100 1; Mâcon 71000 0.7; Auxerre 89000 0.8; Nevers 58000 0.7; "
            "Vesoul 70000 0.5; Lons-le-Saunier 39000 0.5"
        ),
    ),
    "Centre-Val de Loire": (
        2,
        _cities(
            "Tours 37000 3; Orléans 45000 3; Montargis 45200 0.5; Bourges 18000 1.2; Blois 41000 1; "
            "Chartres 28000 1.2; Dreux 28100 0.5; Châteauroux 36000 0.8"
        ),
    ),
    "Corse": (
        4,
        _cities("Ajaccio 20000 1; Bastia 20200 1; Porto-Vecchio 20137 0.3; Corte 20250 0.2"),
    ),
}
REGION_NAMES = list(REGIONS)
# Company locations by type: roughly population, Île-de-France for large
# accounts, regional metropolises for growing SMEs, rural regions for dormants.
_REGION_BASE = np.array([0.19, 0.12, 0.08, 0.09, 0.08, 0.09, 0.09, 0.05, 0.05, 0.06, 0.04, 0.04, 0.005])
_REGION_BOOST = np.array(
    [
        [8.0, 1.2, 1.0, 0.8, 0.7, 0.8, 0.8, 0.6, 0.6, 0.7, 0.5, 0.5, 0.3],
        [0.7, 1.0, 1.1, 1.0, 1.0, 1.1, 1.1, 1.1, 1.1, 1.0, 1.1, 1.1, 1.2],
        [1.0, 1.0, 1.0, 1.1, 1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        [0.6, 0.9, 0.9, 1.3, 1.4, 1.0, 1.1, 1.0, 1.4, 1.0, 1.6, 1.6, 1.0],
        [0.8, 1.6, 1.1, 1.0, 1.0, 1.6, 1.5, 1.4, 1.0, 1.5, 1.0, 1.0, 0.8],
    ]
)
REGION_P = _REGION_BASE * _REGION_BOOST
REGION_P /= REGION_P.sum(axis=1, keepdims=True)

# ---------------------------------------------------------------------------
# People and companies.
# ---------------------------------------------------------------------------
FIRST_NAMES_F = _words(
    "Marie Nathalie Isabelle Sylvie Catherine Sandrine Valérie Christine Céline "
    "Stéphanie Sophie Aurélie Émilie Julie Camille Léa Manon Chloé Laura Sarah "
    "Hélène Anne Caroline Virginie Claire Élodie Pauline Mélanie Audrey Gaëlle "
    "Anaïs Zoé Maëlle Margaux Inès Océane Agnès Béatrice Françoise Geneviève "
    "Brigitte Véronique Nadia Amélie Justine Marion Lucie Jeanne Noémie "
    "Anne-Sophie Marie-Claire Clémence Estelle Laëtitia Solène Fatima Sonia "
    "Karine Delphine Emmanuelle Corinne Muriel Ghislaine Josiane Mathilde Juliette "
    "Charlotte Louise Alice Romane Eugénie Ophélie Bérénice Chantal Morgane Yasmina"
)
FIRST_NAMES_M = _words(
    "Jean Philippe Michel Alain Patrick Nicolas Christophe Pierre Christian Éric "
    "Frédéric Laurent Stéphane David Olivier Julien Sébastien Thomas Alexandre "
    "Antoine François Jérôme Guillaume Maxime Romain Mathieu Vincent Cédric "
    "Benoît Hervé Thierry Didier Bruno Gérard Jean-Pierre Jean-Luc Jean-François "
    "Hugo Lucas Théo Noël Loïc Gaël Raphaël Jérémy Yannick Grégory Arnaud "
    "Fabrice Mickaël Karim Mehdi Rémi Baptiste Clément Damien Florian Adrien "
    "Emmanuel Joël Sylvain Ludovic Xavier Pascal Franck Serge Gilles Denis "
    "Tristan Aurélien Quentin Kévin Jordan Bastien Hakim Gaëtan"
)
FIRST_NAMES = FIRST_NAMES_F + FIRST_NAMES_M
SURNAMES = [
    *_words(
        "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent "
        "Simon Michel Lefèvre Leroy Roux David Bertrand Morel Fournier Girard "
        "Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller Lefebvre Faure "
        "André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand "
        "Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu "
        "Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noël Meyer "
        "Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard "
        "Barbier Arnaud Martinez Gérard Roche Renard Schmitt Roy Leroux Colin "
        "Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix "
        "Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland "
        "Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger "
        "Carpentier Sanchez Dupuis Moulin Louis Deschamps Huet Vasseur Perez "
        "Boucher Fleury Royer Klein Jacquet Adam Paris Poirier Marty Aubry Guyot "
        "Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly "
        "Hervé Schneider Fernandez Collet Léger Bouvier Julien Prévost Millet "
        "Perrot Daniel Cousin Germain Breton Besson Langlois Rémy Pelletier "
        "Lévêque Perrier Leblanc Barré Lebrun Marchal Weber Mallet Hamon "
        "Boulanger Jacob Monnier Michaud Rodriguez Guichard Gillet Étienne "
        "Grondin Poulain Tessier Chevallier Collin Chauvin Bouchet Gay Lemaître "
        "Bénard Maréchal Humbert Reynaud Antoine Hoarau Perret Barthélemy Cordier "
        "Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte Thébault "
        "Hébert Crépin Bréhier Jourdain Kerbrat Quéré Ségur Bézier Vérany "
        "Courtois Lefort Texier Besnard Vallet Guillou Prigent Jacques "
        "Lemarchand Tanguy Buisson Masse Devaux Lebon Camus Faivre "
        "Rousset Marion Maury Renaudin Gros Bourdon Vaillant Delmas "
        "Ferrand Dupré Hamel Lacombe Bigot Joubert Mathis Fouquet Bousquet "
        "Launay Bouvet Lagarde Raynaud Ollivier Pons Gomez Boutin Salmon Ribeiro "
        "Chauvet Chevreau Leduc Valentin Brunel Duhamel Cuvelier Fabregas Granger "
        "Lecoq Hardy Lefranc Turpin Delattre Hennequin Grégoire Mény Lelièvre "
        "Desjardins Thiébaut Girardot Bérenger Pétillon Sénéchal Dorléans Castel "
        "Fontanel Rocher Villard Bazin Guého Jégou Évrard Chrétien"
    ),
    *["Le Gall", "Le Roux", "Le Goff", "Da Silva", "D'Almeida", "De La Fontaine", "Le Bihan", "Le Floch"],
]
# Name frequencies are roughly Zipfian.
SURNAME_P = 1.0 / (np.arange(len(SURNAMES)) + 10.0) ** 0.8
SURNAME_P /= SURNAME_P.sum()
FIRST_P = 1.0 / (np.arange(len(FIRST_NAMES_F)) + 6.0) ** 0.7
FIRST_P /= FIRST_P.sum()

# "Activity + surname" company names, by sector.
ACTIVITIES = [
    ["Ateliers", "Mécanique", "Usinage", "Fonderie", "Métallerie", "Plasturgie"],
    ["Boutique", "Librairie", "Quincaillerie", "Optique", "Fleurs", "Droguerie"],
    ["Cabinet", "Agence", "Nettoyage", "Fiduciaire", "Sécurité", "Imprimerie"],
    ["Pharmacie", "Laboratoire", "Clinique", "Ambulances", "Centre dentaire", "Kiné"],
    ["Maçonnerie", "Menuiserie", "Plomberie", "Charpente", "Électricité", "Couverture"],
    ["Informatique", "Logiciels", "Réseaux", "Studio", "Web", "Data"],
    ["Transports", "Taxis", "Logistique", "Déménagements", "Messageries", "Garage"],
    ["Boulangerie", "Fromagerie", "Boucherie", "Œnologie", "Salaisons", "Brasserie"],
    ["Assurances", "Courtage", "Patrimoine", "Gestion", "Audit", "Expertise"],
    ["École", "Formation", "Institut", "Auto-école", "Crèche", "Atelier"],
]
# Invented brand names: a stem and an ending ("Nexa", "Kalys", "Solvéa"),
# followed by a word of the company's sector.
BRAND_STEMS = _words(
    "Nex Opt Ver Alt Kal Ax Syn Néov Or Lum Vers Hél Tess Nov Pris Arc Ond Solv Ib Quant Bor Cér Az "
    "Vect Op Terr Kin Strat Sir Od Véd Nax Ell Cor Zen Ar Clar Dyn Ecl Flu Gal Hor Lex Mer Pol Tal Val Xen"
)
BRAND_ENDINGS = _words("a is ys éa ia on ium ance éo al ora ens ea")
BRANDS = [stem + ending for stem in BRAND_STEMS for ending in BRAND_ENDINGS]
BRAND_WORDS = [  # by sector
    ["Industrie", "Industries", "Process"],
    ["Distribution", "Commerce", "Négoce"],
    ["Conseil", "Services", "Partners"],
    ["Santé", "Médical", "Care"],
    ["Bâtiment", "Construction", "Habitat"],
    ["Digital", "Technologies", "Software"],
    ["Logistique", "Transports", "Fret"],
    ["Agro", "Alimentaire", "Terroirs"],
    ["Finance", "Gestion", "Capital"],
    ["Formation", "Éducation", "Académie"],
]
# Family-business patterns ({} is the surname) and their domain names.
FAMILY_PATTERNS = [
    "{} & Fils",
    "Établissements {}",
    "Groupe {}",
    "{} et Associés",
    "{} Frères",
    "Maison {}",
    "{} & Cie",
    "{} Père et Fils",
]
FAMILY_SLUGS = [
    "{}-et-fils",
    "ets-{}",
    "groupe-{}",
    "{}-associes",
    "{}-freres",
    "maison-{}",
    "{}-cie",
    "{}-pere-fils",
]

# Legal forms and the spellings a duplicate record may use instead
# (canonical, dotted, another spelling, omitted).
LEGAL_FORMS = ["", "SAS", "SARL", "SA", "EURL", "SASU"]
LEGAL_FORM_VARIANTS = [
    ["", "", "", ""],
    [" SAS", " S.A.S.", " sas", ""],
    [" SARL", " S.A.R.L.", " Sarl", ""],
    [" SA", " S.A.", " S.A", ""],
    [" EURL", " E.U.R.L.", " Eurl", ""],
    [" SASU", " S.A.S.U.", " sasu", ""],
]
LEGAL_FORM_P = np.array(  # by size: none, SAS, SARL, SA, EURL, SASU
    [
        [0.40, 0.15, 0.25, 0.00, 0.10, 0.10],
        [0.40, 0.35, 0.20, 0.05, 0.00, 0.00],
        [0.40, 0.40, 0.00, 0.20, 0.00, 0.00],
        [0.40, 0.25, 0.00, 0.35, 0.00, 0.00],
    ]
)

PERSONAL_DOMAINS = [
    "gmail.com",
    "orange.fr",
    "free.fr",
    "hotmail.fr",
    "laposte.net",
    "wanadoo.fr",
    "sfr.fr",
    "yahoo.fr",
]
PERSONAL_DOMAIN_P = np.array([0.40, 0.18, 0.10, 0.10, 0.07, 0.07, 0.04, 0.04])
GENERIC_LOCALS = ["contact", "info", "accueil"]

# Row-level noise rates, applied to every row (duplicate or not).
P_EMAIL_MISSING = 0.03
P_EMAIL_INVALID = 0.01
P_PHONE_MISSING = 0.05
P_PHONE_INVALID = 0.01
P_REGION_MESSY = 0.03
P_MATURITY_MESSY = 0.05
P_MATURITY_MISSING = 0.02
P_ACTIVITY_MISSING = 0.02
P_USAGE_MISSING = 0.01
P_VALUE_MISSING = 0.02
P_CONSENT_MISSING = 0.05
P_DUPLICATED = 0.08  # share of customers with a second record
P_THIRD_RECORD = 0.2  # share of those with a third one
P_NAMESAKE = 0.005  # customers given the full name of a stranger elsewhere
P_COMPANY_HOMONYM = 0.02  # companies named like another one elsewhere


# ---------------------------------------------------------------------------
# Helpers. Vocabulary helpers run on a few hundred strings at most; the
# others work on whole columns (numpy arrays or Arrow-backed string Series).
# ---------------------------------------------------------------------------
def _strip_accents(text: str) -> str:
    text = text.replace("Œ", "Oe").replace("œ", "oe")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _slug(text: str, space: str = "") -> str:
    """Lower-case ASCII form used in e-mail addresses and domains."""
    text = _strip_accents(text).lower().replace("'", "").replace("&", "et")
    return text.replace(" ", space)


def _region_variants(name: str) -> list[str]:
    """Spellings found in hand-typed region fields, canonical first."""
    plain = _strip_accents(name)
    return [name, plain.upper().replace("-", " "), f" {plain.lower()} ", plain, name.upper()]


def _draw(rng: np.random.Generator, group: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Draw one category per row with the probabilities of the row's group.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    group : numpy.ndarray
        Integer group of each row (e.g. the latent type), indexing ``table``.
    table : numpy.ndarray
        Shape ``(n_groups, k)``; each row sums to 1.

    Returns
    -------
    numpy.ndarray
        One integer code in ``[0, k)`` per row.
    """
    u = rng.random(len(group))
    codes = np.empty(len(group), dtype=np.int64)
    # One inverse-CDF lookup per group keeps memory linear in the rows
    # (a per-row probability matrix would not be at millions of rows).
    for g, cum in enumerate(np.cumsum(table, axis=1)):
        mask = group == g
        codes[mask] = np.searchsorted(cum, u[mask], side="right")
    return np.minimum(codes, table.shape[1] - 1)


def _take(table: list[str] | pd.Series, codes: np.ndarray) -> pd.Series:
    """Look strings up by integer code, as a string Series."""
    array = table.array if isinstance(table, pd.Series) else pd.array(list(table), dtype="str")
    return pd.Series(array.take(codes))


def _select(conditions: list[np.ndarray], choices: list[pd.Series], default: pd.Series) -> pd.Series:
    """``np.select`` for string Series (conditions must be mutually exclusive)."""
    out = default
    for condition, choice in zip(conditions, choices, strict=True):
        out = out.where(~condition, choice)
    return out


def _replace(series: pd.Series, mask: np.ndarray, values: pd.Series | np.ndarray) -> pd.Series:
    """Copy of ``series`` with the masked cells set to ``values`` (one per masked cell)."""
    out = series.copy()
    out[mask] = np.asarray(values, dtype=object)
    return out


def _int_str(values: np.ndarray) -> pd.Series:
    return pd.Series(values).astype("str")


def _zero_pad(values: np.ndarray, width: int) -> pd.Series:
    return _int_str(values).str.zfill(width)


def _day_tables() -> tuple[list[str], list[str]]:
    """French (dd/mm/yyyy) and ISO spellings of every day since EPOCH."""
    days = pd.date_range(str(EPOCH), str(REFERENCE_DATE), freq="D")
    return list(days.strftime("%d/%m/%Y")), list(days.strftime("%Y-%m-%d"))


def _ensure_unique(local: pd.Series, domain: pd.Series) -> pd.Series:
    """Append 2, 3... to repeated local parts so each address is unique.

    Repeated until no address repeats, since ``jean.martin`` + ``2`` may
    already exist.
    """
    while True:
        key = local + "@" + domain
        rank = key.groupby(key, sort=False).cumcount().to_numpy()
        if not rank.any():
            return local
        local = local.where(rank == 0, local + _int_str(rank + 1))


def _typos(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Swap two adjacent characters, drop one or double one, per string.

    Vectorised: the strings become a matrix of code points and each row's
    characters are gathered from shifted column indices. The first
    character is kept (people rarely mistype it); strings shorter than
    three characters are returned unchanged.
    """
    arr = np.asarray(values, dtype=str)
    if arr.size == 0:
        return arr.astype(object)
    width = arr.dtype.itemsize // 4 + 1  # one spare column for a doubled char
    codes = np.zeros((arr.size, width), dtype=np.uint32)
    codes[:, :-1] = arr.view(np.uint32).reshape(arr.size, width - 1)
    length = (codes != 0).sum(axis=1)
    pos = (1 + (rng.random(arr.size) * np.maximum(length - 2, 1)).astype(int))[:, None]
    kind = rng.integers(0, 3, arr.size)[:, None]
    cols = np.arange(width)[None, :]
    swap = np.where(cols == pos, pos + 1, np.where(cols == pos + 1, pos, cols))
    drop = np.where(cols >= pos, np.minimum(cols + 1, width - 1), cols)
    double = np.where(cols > pos, cols - 1, cols)
    src = np.select([kind == 0, kind == 1], [swap, drop], double)
    src = np.where((length >= 3)[:, None], src, cols)
    out = np.take_along_axis(codes, src, axis=1)
    return out.view(f"<U{width}").ravel().astype(object)


# ---------------------------------------------------------------------------
# Generation.
# ---------------------------------------------------------------------------
def _companies(rng: np.random.Generator, n_customers: int) -> dict[str, np.ndarray | pd.Series]:
    """Draw companies until they hold ``n_customers`` contacts."""
    n = n_customers  # every company has at least one contact, so n suffices
    ctype = rng.choice(len(TYPES), size=n, p=TYPE_SHARES)
    multi = rng.random(n) < MULTI_CONTACT_P[ctype]
    contacts = np.where(multi, rng.integers(2, 5, n), 1)
    n_comp = int(np.searchsorted(np.cumsum(contacts), n_customers) + 1)
    contacts = contacts[:n_comp]
    contacts[-1] -= contacts.sum() - n_customers  # trim the last company
    ctype = ctype[:n_comp]

    size = _draw(rng, ctype, SIZE_P)
    sector = _draw(rng, ctype, SECTOR_P)
    region = _draw(rng, ctype, REGION_P)
    # City within region, by weight.
    city_offsets = np.cumsum([0] + [len(c) for _, c in REGIONS.values()])
    city_weights = [np.array([w for *_, w in c]) for _, c in REGIONS.values()]
    city = np.empty(n_comp, dtype=int)
    for r, weights in enumerate(city_weights):
        mask = region == r
        city[mask] = city_offsets[r] + rng.choice(len(weights), size=mask.sum(), p=weights / weights.sum())

    # Names: activity + surname for small firms, brands for large ones,
    # family-business patterns in between. A name is an integer key
    # (pattern, part 1, part 2) until it is rendered.
    pattern = _draw(rng, (size >= 2).astype(int), np.array([[0.60, 0.20, 0.20], [0.15, 0.65, 0.20]]))
    n_surnames = len(SURNAMES)

    def draw_parts(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Part 1: activity (of 6), brand or family pattern; part 2: surname or brand word (of 3).
        part1 = rng.integers(0, len(BRANDS), p.size)
        part2 = rng.integers(0, n_surnames, p.size)
        part1 = np.where(p == 0, part1 % 6, np.where(p == 2, part1 % len(FAMILY_PATTERNS), part1))
        return part1, np.where(p == 1, part2 % 3, part2)

    part1, part2 = draw_parts(pattern)
    # Homonymous companies are realistic, but the short vocabularies would
    # make far too many: redraw them (at very large sizes some remain), then
    # copy a few names on purpose, within a sector, to another city.
    for _ in range(8):
        key = pd.DataFrame({"p": pattern, "s": np.where(pattern == 2, 0, sector), "a": part1, "b": part2})
        clash = key.duplicated().to_numpy()
        if not clash.any():
            break
        part1[clash], part2[clash] = draw_parts(pattern[clash])
    by_sector = np.argsort(sector, kind="stable")
    first_of_sector = np.searchsorted(sector[by_sector], np.arange(len(SECTORS)))
    per_sector = np.bincount(sector, minlength=len(SECTORS))
    target = rng.choice(n_comp, size=round(P_COMPANY_HOMONYM * n_comp), replace=False)
    pick = (rng.random(target.size) * per_sector[sector[target]]).astype(int)
    source = by_sector[first_of_sector[sector[target]] + pick]
    ok = city[target] != city[source]
    target, source = target[ok], source[ok]
    pattern[target], part1[target], part2[target] = pattern[source], part1[source], part2[source]
    legal_form = _draw(rng, size, LEGAL_FORM_P)

    # Codes into the vocabularies; 0 where the pattern does not use them
    # (every pattern is rendered for every row, then one is selected).
    act_words = [a for group in ACTIVITIES for a in group]
    brand_words = [w for group in BRAND_WORDS for w in group]
    is_act, is_brand, is_family = pattern == 0, pattern == 1, pattern == 2
    act_code = np.where(is_act, sector * 6 + part1, 0)
    brand = np.where(is_brand, part1, 0)
    word_code = np.where(is_brand, sector * 3 + part2, 0)
    surname = np.where(is_brand, 0, part2)
    fam_code = np.where(is_family, part1, 0) * n_surnames + surname
    family_names = [p.format(s) for p in FAMILY_PATTERNS for s in SURNAMES]
    family_slugs = [p.format(_slug(s)) for p in FAMILY_SLUGS for s in SURNAMES]
    name = _select(
        [is_act, is_brand],
        [
            _take(act_words, act_code) + " " + _take(SURNAMES, surname),
            _take(BRANDS, brand) + " " + _take(brand_words, word_code),
        ],
        _take(family_names, fam_code),
    )
    brand_sep = np.where(rng.random(n_comp) < 0.5, "", "-")
    slug = _select(
        [is_act, is_brand],
        [
            _take([_slug(a, "-") for a in act_words], act_code) + "-" + _take([_slug(s) for s in SURNAMES], surname),
            _take([_slug(b) for b in BRANDS], brand) + brand_sep + _take([_slug(w) for w in brand_words], word_code),
        ],
        _take(family_slugs, fam_code),
    )
    # Homonymous companies get their own domain: city suffix, then a number.
    city_slugs = [_slug(c, "-") for _, cities in REGIONS.values() for c, *_ in cities]
    slug = slug.where(~slug.duplicated().to_numpy(), slug + "-" + _take(city_slugs, city))
    rank = slug.groupby(slug, sort=False).cumcount().to_numpy()
    slug = slug.where(rank == 0, slug + _int_str(rank + 1))
    tld = np.where(rng.random(n_comp) < 0.8, ".fr", ".com")

    zones = np.array(
        [
            4 if (zone == 5 and pc[:2] in {"30", "34", "66", "11", "48"}) else zone
            for zone, cities in REGIONS.values()
            for _, pc, _ in cities
        ]
    )
    switchboard = zones[city] * 100_000_000 + rng.integers(10_000_000, 99_999_999, n_comp)

    return {
        "type": ctype,
        "contacts": contacts,
        "size": size,
        "sector": sector,
        "region": region,
        "city": city,
        "name_pattern": pattern,
        "surname": surname,
        "name": name,
        "legal_form": legal_form,
        "domain": slug + tld,
        "switchboard": switchboard,
        "zone": zones[city],
        # E-mail convention: prenom.nom, p.nom or pnom.
        "email_style": rng.choice(3, size=n_comp, p=[0.8, 0.1, 0.1]),
        # Family businesses: colleagues are relatives sharing a surname.
        "family": (contacts > 1) & (rng.random(n_comp) < 0.3),
        # Some multi-contact companies share a generic mailbox.
        "generic_email": (contacts > 1) & (rng.random(n_comp) < 0.25),
        "generic_local": rng.integers(0, len(GENERIC_LOCALS), n_comp),
    }


def _customers(rng: np.random.Generator, comp: dict) -> dict[str, np.ndarray | pd.Series]:
    """Draw the distinct customers (contacts), grouped by company."""
    n_comp = len(comp["contacts"])
    company = np.repeat(np.arange(n_comp), comp["contacts"])
    n = len(company)
    start = np.cumsum(comp["contacts"]) - comp["contacts"]
    rank = np.arange(n) - start[company]
    ctype = comp["type"][company]

    def draw_first(k: int) -> np.ndarray:
        female = rng.random(k) < 0.5
        return rng.choice(len(FIRST_NAMES_F), size=k, p=FIRST_P) + np.where(female, 0, len(FIRST_NAMES_F))

    first = draw_first(n)
    last = rng.choice(len(SURNAMES), size=n, p=SURNAME_P)
    # Founders carry the company's name; relatives share the first contact's.
    founder = (comp["name_pattern"][company] != 1) & (rank == 0) & (rng.random(n) < 0.5)
    last = np.where(founder, comp["surname"][company], last)
    relative = comp["family"][company] & (rank > 0)
    last = np.where(relative, last[start[company]], last)
    fixed_last = founder | relative
    # Independent draws from short name lists give far more namesakes than a
    # real CRM of this size has: redraw them (at a million customers the
    # lists cannot avoid them all), then add a few deliberate ones.
    for _ in range(8):
        clash = pd.DataFrame({"f": first, "l": last}).duplicated().to_numpy()
        if not clash.any():
            break
        first[clash] = draw_first(clash.sum())
        redraw_last = clash & ~fixed_last
        last[redraw_last] = rng.choice(len(SURNAMES), size=redraw_last.sum(), p=SURNAME_P)
    # Namesakes: a stranger's full name, at a one-contact company in another city.
    target = rng.choice(n, size=round(P_NAMESAKE * n), replace=False)
    source = rng.integers(0, n, target.size)
    city = comp["city"]
    ok = (comp["contacts"][company[target]] == 1) & (city[company[target]] != city[company[source]])
    first[target[ok]], last[target[ok]] = first[source[ok]], last[source[ok]]
    # Two colleagues with the same full name would be indistinguishable.
    for _ in range(20):
        clash = pd.DataFrame({"c": company, "f": first, "l": last}).duplicated().to_numpy()
        if not clash.any():
            break
        first[clash] = draw_first(clash.sum())

    # Phones: colleagues often give the switchboard; others a mobile or a
    # direct line. Canonical form is ten digits (as an integer here).
    mobile = (6 + rng.integers(0, 2, n)) * 100_000_000 + rng.integers(10_000_000, 99_999_999, n)
    direct = comp["zone"][company] * 100_000_000 + rng.integers(10_000_000, 99_999_999, n)
    own = np.where(rng.random(n) < 0.6, mobile, direct)
    use_switchboard = rng.random(n) < np.where(comp["contacts"][company] > 1, 0.5, 0.4)
    phone = np.where(use_switchboard, comp["switchboard"][company], own)

    # E-mails: a work address following the company's convention, unique per
    # person; a personal address, unique too; each record shows one of them.
    first_slug = _take([_slug(f) for f in FIRST_NAMES], first)
    last_slug = _take([_slug(s) for s in SURNAMES], last)
    initial = first_slug.str.slice(0, 1)
    style = comp["email_style"][company]
    local = _select(
        [style == 0, style == 1],
        [first_slug + "." + last_slug, initial + "." + last_slug],
        initial + last_slug,
    )
    domain = _take(comp["domain"], company)
    work = _ensure_unique(local, domain) + "@" + domain
    generic = comp["generic_email"][company] & (rng.random(n) < 0.5)
    work = work.where(~generic, _take(GENERIC_LOCALS, comp["generic_local"][company]) + "@" + domain)
    provider = _take(PERSONAL_DOMAINS, rng.choice(len(PERSONAL_DOMAINS), n, p=PERSONAL_DOMAIN_P))
    plocal = first_slug + "." + last_slug
    plocal = plocal.where(rng.random(n) < 0.6, plocal + _int_str(rng.integers(1, 100, n)))
    personal = _ensure_unique(plocal, provider) + "@" + provider
    uses_personal = rng.random(n) < np.where(comp["size"][company] == 0, 0.3, 0.06)

    # Behaviour, driven by the latent type.
    usage = rng.gamma(USAGE_GAMMA[ctype, 0], USAGE_GAMMA[ctype, 1])
    usage_tenths = np.minimum(np.round(usage * 10), 800).astype(int)
    shape = 2.5  # negative binomial as a gamma-Poisson mixture
    tickets = np.minimum(rng.poisson(rng.gamma(shape, TICKETS_MEAN[ctype] / shape)), 300)
    value = np.exp(np.log(VALUE_MEDIAN[ctype]) + VALUE_SIGMA[ctype] * rng.standard_normal(n))
    # Half the contracts are priced in round hundreds.
    round_price = rng.random(n) < 0.5
    value_cents = np.where(round_price, np.round(value / 100) * 10_000, np.round(value * 100)).astype(np.int64)
    value_cents = np.maximum(value_cents, 10_000)
    maturity = _draw(rng, ctype, MATURITY_P)
    consent = (rng.random(n) < 0.72).astype(int)  # 1 = oui

    # Dates, in days since EPOCH: creation, then last activity after it.
    beta = rng.beta(CREATION_BETA[ctype, 0], CREATION_BETA[ctype, 1])
    created = (beta * CREATION_LAST[ctype]).astype(int)
    age = _REF - created
    stale = (rng.random(n) < STALE_P[ctype]) & (age > STALE_DAYS + 30)
    room = np.maximum(age - STALE_DAYS - 1, 0)
    extra = rng.exponential(300.0, n)
    stale_gap = STALE_DAYS + 1 + np.where(extra > room, rng.random(n) * room, extra)
    active_gap = rng.exponential(ACTIVE_RECENCY_DAYS[ctype])
    active_gap = np.where(active_gap > STALE_DAYS, rng.random(n) * STALE_DAYS, active_gap)
    gap = np.minimum(np.where(stale, stale_gap, active_gap), age).astype(int)

    return {
        "company": company,
        "rank": rank,
        "type": ctype,
        "first": first,
        "last": last,
        "phone": phone,
        "work_email": work,
        "personal_email": personal,
        "uses_personal": uses_personal,
        "usage_tenths": usage_tenths,
        "tickets": tickets,
        "value_cents": value_cents,
        "maturity": maturity,
        "consent": consent,
        "created": created,
        "last_activity": _REF - gap,
    }


def _format_phone(digits: pd.Series, style: np.ndarray) -> pd.Series:
    """Spell ten-digit numbers the ways people type them (style 0-5)."""
    p = [digits.str.slice(i, i + 2) for i in range(0, 10, 2)]

    def joined(sep: str) -> pd.Series:
        return p[0] + sep + p[1] + sep + p[2] + sep + p[3] + sep + p[4]

    international = "+33 " + digits.str.slice(1, 2) + " " + p[1] + " " + p[2] + " " + p[3] + " " + p[4]
    return _select(
        [style == 1, style == 2, style == 3, style == 4, style == 5],
        [digits, international, joined("."), "+33" + digits.str.slice(1, 10), joined("-")],
        joined(" "),
    )


def _format_euros(cents: np.ndarray, thousands: np.ndarray) -> pd.Series:
    """``12 400,50``-style amounts; ``thousands`` holds each row's separator."""
    euros = np.minimum(cents, 99_999_999_999) // 100  # up to 999 999 999 €
    unpadded = [str(i) for i in range(1000)]
    padded = [f"{i:03d}" for i in range(1000)]
    sep = pd.Series(thousands, dtype="str")
    millions, kilo, units = euros // 1_000_000, euros // 1000 % 1000, euros % 1000
    big = _take(unpadded, millions) + sep + _take(padded, kilo) + sep + _take(padded, units)
    mid = _take(unpadded, kilo) + sep + _take(padded, units)
    whole = _select([millions > 0, (millions == 0) & (kilo > 0)], [big, mid], _take(unpadded, units))
    return whole + "," + _take(padded, cents % 100).str.slice(1, 3)


def _rows(rng: np.random.Generator, comp: dict, cust: dict) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Expand customers into shuffled CRM records with duplicates and noise.

    Returns
    -------
    records : pandas.DataFrame
        The rendered records, ``ID client`` still empty.
    row_cust : numpy.ndarray
        Customer index of each record.
    created : numpy.ndarray
        Creation day of each record (days since EPOCH).
    """
    n = len(cust["company"])
    copies = np.zeros(n, dtype=int)
    duplicated = rng.choice(n, size=round(P_DUPLICATED * n), replace=False)
    copies[duplicated] = 1
    copies[duplicated[: round(P_THIRD_RECORD * duplicated.size)]] = 2
    row_cust = np.concatenate([np.arange(n), np.repeat(np.arange(n), copies)])
    dup = np.arange(len(row_cust)) >= n
    # Shuffle now: records are rendered in export order, no copy afterwards.
    shuffle = rng.permutation(len(row_cust))
    row_cust, dup = row_cust[shuffle], dup[shuffle]
    m = len(row_cust)
    # A tenth of the duplicates are plain re-imports; the rest vary.
    varies = dup & (rng.random(m) >= 0.1)

    def pick(p: float) -> np.ndarray:
        return varies & (rng.random(m) < p)

    company = cust["company"][row_cust]

    # --- company name, with legal form variants for duplicates and for a
    # few colleagues typed by someone else.
    form_variant = np.zeros(m, dtype=int)
    legal_var = pick(0.35) | (~dup & (cust["rank"][row_cust] > 0) & (rng.random(m) < 0.1))
    form_variant[legal_var] = rng.integers(1, 4, legal_var.sum())
    suffix_table = [s for row in LEGAL_FORM_VARIANTS for s in row]
    form = comp["legal_form"][company]
    societe = _take(comp["name"], company) + _take(suffix_table, form * 4 + form_variant)
    societe = societe.where(~(legal_var & (rng.random(m) < 0.25)), "Sté " + societe)
    societe = societe.where(~(legal_var & (rng.random(m) < 0.15)), societe.str.upper())

    # --- names: dropped accents, typos, upper/lower case, swapped fields.
    first_table = FIRST_NAMES + [_strip_accents(f) for f in FIRST_NAMES]
    last_table = SURNAMES + [_strip_accents(s) for s in SURNAMES]
    plain = pick(0.3)
    prenom = _take(first_table, cust["first"][row_cust] + plain * len(FIRST_NAMES))
    nom = _take(last_table, cust["last"][row_cust] + plain * len(SURNAMES))
    typo = pick(0.3)
    typo_first = typo & (rng.random(m) < 0.3)
    typo_last = typo & ~typo_first
    prenom = _replace(prenom, typo_first, _typos(prenom[typo_first].to_numpy(), rng))
    nom = _replace(nom, typo_last, _typos(nom[typo_last].to_numpy(), rng))
    # Many French CRMs write surnames in capitals; some duplicates do.
    case = np.where(pick(0.25), rng.integers(1, 4, m), 0)
    case[~dup & (rng.random(m) < 0.04)] = 1
    nom = nom.where(case == 0, nom.str.upper())
    prenom = prenom.where(case != 2, prenom.str.upper())
    nom = nom.where(case != 3, nom.str.lower())
    prenom = prenom.where(case != 3, prenom.str.lower())
    swap = pick(0.08)
    prenom, nom = prenom.where(~swap, nom), nom.where(~swap, prenom)

    # --- e-mail: the other address (work vs personal) or none at all.
    personal = cust["uses_personal"][row_cust] ^ pick(0.35)
    email = _take(cust["work_email"], row_cust).where(~personal, _take(cust["personal_email"], row_cust))
    email = email.where(rng.random(m) >= 0.05, email.str.capitalize())
    invalid = rng.random(m) < P_EMAIL_INVALID
    kind = rng.integers(0, 4, invalid.sum())
    if invalid.any():
        parts = email[invalid].str.partition("@")  # few rows: splitting all would be slow
        local, domain = parts[0], parts[2]
        broken = _select(
            [kind == 1, kind == 2, kind == 3],
            [local + "." + domain, local + "@@" + domain, local + "@" + domain.str.replace(".", "", regex=False)],
            local + "@",
        )
        email = _replace(email, invalid, broken)
    email = email.mask(pick(0.15) | (rng.random(m) < P_EMAIL_MISSING))

    # --- phone: each record picks its own spelling of the same number.
    digits = _zero_pad(cust["phone"][row_cust], 10)
    style = rng.choice(6, size=m, p=[0.45, 0.2, 0.15, 0.1, 0.05, 0.05])
    phone = _format_phone(digits, style)
    invalid = rng.random(m) < P_PHONE_INVALID
    kind = rng.integers(0, 3, m)
    bad = _select(
        [kind == 1, kind == 2],
        [phone.str.slice(0, 8), digits + _int_str(rng.integers(0, 10, m))],
        digits.str.slice(5, 10),
    )
    phone = phone.where(~invalid, bad)
    phone = phone.mask(pick(0.2) | (rng.random(m) < P_PHONE_MISSING))

    # --- dates: a duplicate is often created later, and may show later activity.
    created = cust["created"][row_cust]
    last_activity = cust["last_activity"][row_cust]
    later = pick(0.7)
    created[later] += (rng.random(later.sum()) * (last_activity[later] - created[later]) * 0.5).astype(int)
    created = np.minimum(created, _LAST_CREATION)
    bump = pick(0.4)
    last_activity[bump] = np.minimum(last_activity[bump] + rng.integers(1, 90, bump.sum()), _REF)
    last_activity = np.maximum(last_activity, created)
    fr_days, _ = _day_tables()
    date_creation = _take(fr_days, created)
    derniere = _take(fr_days, last_activity).mask(rng.random(m) < P_ACTIVITY_MISSING)

    # --- numbers, written the French Excel way ("3,5", "3").
    usage_table = [f"{i // 10},{i % 10}" if i % 10 else str(i // 10) for i in range(801)]
    usage = _take(usage_table, cust["usage_tenths"][row_cust]).mask(rng.random(m) < P_USAGE_MISSING)
    tickets = _take([str(i) for i in range(301)], cust["tickets"][row_cust])
    tickets = tickets.mask(rng.random(m) < P_USAGE_MISSING)

    value_cents = cust["value_cents"][row_cust]
    nudge = pick(0.3)
    value_cents[nudge] = np.round(value_cents[nudge] * rng.uniform(0.95, 1.05, nudge.sum()))
    # Thousands separator: mostly U+00A0, sometimes a plain space or none;
    # the euro sign after a space, a non-breaking space, or missing.
    sep_kind = rng.choice(3, size=m, p=[0.9, 0.04, 0.06])
    amount = _format_euros(value_cents, np.array([NBSP, " ", ""])[sep_kind])
    euro_sign = rng.choice(3, size=m, p=[0.82, 0.08, 0.10])
    amount = amount + _take([" €", NBSP + "€", ""], euro_sign)
    amount = amount.mask(rng.random(m) < P_VALUE_MISSING)

    # --- categorical fields: canonical, with a few hand-typed spellings.
    region_table = [v for r in REGION_NAMES for v in _region_variants(r)]
    region_var = np.where(rng.random(m) < P_REGION_MESSY, rng.integers(1, 5, m), 0)
    region_text = _take(region_table, comp["region"][company] * 5 + region_var)
    maturity_table = [
        v
        for level in MATURITY
        for v in (level, _strip_accents(level).upper(), f" {level.lower()} ", _strip_accents(level), level.lower())
    ]
    maturity_var = np.where(rng.random(m) < P_MATURITY_MESSY, rng.integers(1, 5, m), 0)
    maturity = _take(maturity_table, cust["maturity"][row_cust] * 5 + maturity_var)
    maturity = maturity.mask(rng.random(m) < P_MATURITY_MISSING)
    consent_table = ["non", "Non", "NON", "oui", "Oui", "OUI"]
    consent_var = rng.choice(3, size=m, p=[0.85, 0.1, 0.05])
    consent = _take(consent_table, cust["consent"][row_cust] * 3 + consent_var)
    consent = consent.mask(rng.random(m) < P_CONSENT_MISSING)

    cities = [(c, pc) for _, cs in REGIONS.values() for c, pc, _ in cs]
    city = comp["city"][company]
    records = pd.DataFrame(
        {
            "ID client": pd.Series(pd.array([pd.NA] * m, dtype="str")),  # set by generate()
            "Société": societe,
            "Secteur": _take(SECTORS, comp["sector"][company]),
            "Taille": _take(SIZES, comp["size"][company]),
            "Région": region_text,
            "Prénom": prenom,
            "Nom": nom,
            "E-mail": email,
            "Téléphone": phone,
            "Code postal": _take([pc for _, pc in cities], city),
            "Ville": _take([c for c, _ in cities], city),
            "Date de création": date_creation,
            "Dernière activité": derniere,
            "Fréquence d'utilisation": usage,
            "Tickets support": tickets,
            "Maturité digitale": maturity,
            "Valeur contrat": amount,
            "Consentement": consent,
        }
    )
    return records, row_cust, created


def _orders(rng: np.random.Generator, cust: dict, row_cust: np.ndarray, row_ids: pd.Series) -> pd.DataFrame:
    """Draw orders consistent with each customer's type and activity dates."""
    n = len(cust["company"])
    ctype = cust["type"]
    shape = 2.0  # negative binomial order counts
    count = rng.poisson(rng.gamma(shape, ORDERS_MEAN[ctype] / shape))
    owner = np.repeat(np.arange(n, dtype=np.int32), count)  # int32: millions of orders
    k = len(owner)
    # Orders fall between creation and the last activity, so dormant
    # customers' orders are old.
    start = cust["created"][owner]
    day = (start + rng.random(k) * (cust["last_activity"][owner] - start + 1)).astype(np.int32)
    del start
    otype = ctype[owner]
    amount = np.exp(np.log(ORDER_MEDIAN[otype]) + 0.8 * rng.standard_normal(k))
    cents = np.maximum(np.round(amount * 100), 500).astype(np.int64)
    category = _draw(rng, otype, ORDER_CATEGORY_P)
    channel = _draw(rng, otype, ORDER_CHANNEL_P)

    # Orders of a duplicated customer may carry any of its record ids:
    # mostly the first record's, sometimes a duplicate's.
    by_customer = np.argsort(row_cust, kind="stable")
    first_record = np.searchsorted(row_cust[by_customer], np.arange(n))
    n_records = np.bincount(row_cust, minlength=n)
    which = np.where(rng.random(k) < 0.75, 0, (rng.random(k) * n_records[owner]).astype(int))
    record = by_customer[first_record[owner] + which]
    del owner, otype, which

    # Sorted by date (ties in random order) and numbered like a billing system.
    perm = rng.permutation(k)
    order = perm[np.argsort(day[perm], kind="stable")]
    del perm
    customer_id = _take(row_ids, record[order])
    # A few orders point at customers missing from the export.
    unknown = rng.random(k) < 0.005
    m = len(row_cust)
    ghost = m + 1 + rng.integers(0, max(m // 10, 100), unknown.sum())
    customer_id = _replace(customer_id, unknown, "C" + _zero_pad(ghost, len(row_ids.iloc[0]) - 1))
    _, iso_days = _day_tables()
    cents = cents[order]
    return pd.DataFrame(
        {
            "order_id": "O" + _zero_pad(np.arange(1, k + 1), max(7, len(str(k)))),
            "customer_id": customer_id,
            "order_date": _take(iso_days, day[order]),
            "amount": _int_str(cents // 100) + "." + _take([f"{i:02d}" for i in range(100)], cents % 100),
            "category": _take(ORDER_CATEGORIES, category[order]),
            "channel": _take(ORDER_CHANNELS, channel[order]),
        }
    )


def generate(
    n_customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    *,
    orders: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Generate the customers export, its deduplication truth and orders.

    Parameters
    ----------
    n_customers : int, default 5000
        Number of distinct customers. 8 % of them get one or two extra
        records, so the export has about ``1.096 * n_customers`` rows.
    seed : int, default 20261101
        Seed of the ``numpy.random.Generator``; same seed, same data.
    orders : bool, default True
        Also generate the orders (about 7.5 per customer); ``False`` returns
        ``None`` in their place and saves time at large sizes.

    Returns
    -------
    customers : pandas.DataFrame
        One row per CRM record, columns :data:`CUSTOMER_COLUMNS`, every
        cell text (missing cells are NA) already spelled the way French
        Excel writes it. Rows are shuffled.
    truth : pandas.DataFrame
        ``record_id`` (the ``ID client``) and ``customer_key``, one row per
        record in the same order; records of one customer share the key.
    orders : pandas.DataFrame or None
        ``order_id, customer_id, order_date, amount, category, channel``,
        all text, sorted by date; about 0.5 % refer to unknown customers.
    """
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    rng = np.random.default_rng(seed)
    comp = _companies(rng, n_customers)
    cust = _customers(rng, comp)
    customers, row_cust, created = _rows(rng, comp, cust)
    del comp, cust["work_email"], cust["personal_email"]  # free memory before the orders
    m = len(customers)

    # CRM ids grow with the creation date (ties in random order).
    perm = rng.permutation(m)
    by_creation = perm[np.argsort(created[perm], kind="stable")]
    id_number = np.empty(m, dtype=np.int64)
    id_number[by_creation] = np.arange(1, m + 1)
    row_ids = "C" + _zero_pad(id_number, max(6, len(str(m))))
    customers["ID client"] = row_ids
    keys = "K" + _zero_pad(row_cust + 1, max(6, len(str(n_customers))))
    truth = pd.DataFrame({"record_id": row_ids, "customer_key": keys})
    order_df = _orders(rng, cust, row_cust, row_ids) if orders else None
    return customers, truth, order_df


# ---------------------------------------------------------------------------
# Writing. pandas' ``to_csv`` takes ~25 s for a million 18-column rows, so
# lines are assembled with vectorised string concatenation and written in
# chunks. Only lines that may need quoting go through the csv module, which
# quotes the way Excel does (fields holding the separator, a quote or a
# line break).
# ---------------------------------------------------------------------------
_CHUNK_ROWS = 250_000


def _concat(columns: list[pd.Series], sep: str) -> pd.Series:
    """Join columns with ``sep``, pairwise so long lines are copied few times."""
    while len(columns) > 1:
        pairs = [columns[i] + sep + columns[i + 1] for i in range(0, len(columns) - 1, 2)]
        columns = pairs + columns[len(columns) - len(columns) % 2 :]
    return columns[0]


def _csv_line(values: list[object], sep: str) -> str:
    buffer = io.StringIO()
    # The csv module quotes fields holding characters of the line
    # terminator, so give it CR LF (then drop it) to have line breaks quoted.
    csv.writer(buffer, delimiter=sep, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()[:-2]


def _write_csv(df: pd.DataFrame, path: str | Path, *, sep: str, encoding: str, newline: str) -> None:
    with open(path, "wb") as out:
        out.write((_csv_line(list(df.columns), sep) + newline).encode(encoding))
        for begin in range(0, len(df), _CHUNK_ROWS):
            chunk = df.iloc[begin : begin + _CHUNK_ROWS]
            cells = [chunk[name].astype("str").fillna("") for name in chunk.columns]
            line = _concat(cells, sep)
            # A line with exactly one separator per column boundary and no
            # quote or line break is valid CSV as it stands.
            n_sep = line.str.len().to_numpy() - line.str.replace(sep, "", regex=False).str.len().to_numpy()
            suspect = (n_sep != len(cells) - 1) | line.str.contains('["\r\n]', regex=True).to_numpy(dtype=bool)
            lines = line.tolist()
            for i in np.flatnonzero(suspect):
                lines[i] = _csv_line([column.iloc[i] for column in cells], sep)
            out.write((newline.join(lines) + newline).encode(encoding))


def write_customers_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a customers table the way French Excel saves "CSV (;)".

    Parameters
    ----------
    df : pandas.DataFrame
        Table whose cells are text or NA (as returned by :func:`generate`);
        other values are converted to text.
    path : str or pathlib.Path
        Destination file, overwritten.

    Notes
    -----
    Delimiter ``;``, Windows-1252 without BOM, CRLF line endings, missing
    cells empty, cells quoted only when they contain ``;``, ``"`` or a line
    break. Raises ``UnicodeEncodeError`` if a cell holds a character that
    cp1252 cannot encode.
    """
    _write_csv(df, path, sep=";", encoding="cp1252", newline="\r\n")


def write_plain_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table as UTF-8 (no BOM), comma-separated, LF line endings.

    Used for ``truth.csv`` and ``orders.csv``.

    Parameters
    ----------
    df : pandas.DataFrame
        Table whose cells are text or NA.
    path : str or pathlib.Path
        Destination file, overwritten.
    """
    _write_csv(df, path, sep=",", encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help="distinct customers to generate (default 5000); files are then named *_ROWS.csv",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="output directory (default: this script's directory)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--no-orders", action="store_true", help="do not generate the orders file")
    args = parser.parse_args(argv)
    if args.rows is not None and args.rows < 1:
        parser.error("--rows must be at least 1")

    began = time.perf_counter()
    n = DEFAULT_CUSTOMERS if args.rows is None else args.rows
    suffix = "" if args.rows is None else f"_{args.rows}"
    customers, truth, orders = generate(n, args.seed, orders=not args.no_orders)
    args.out.mkdir(parents=True, exist_ok=True)
    write_customers_csv(customers, args.out / f"customers{suffix}.csv")
    write_plain_csv(truth, args.out / f"truth{suffix}.csv")
    summary = f"{len(customers)} records of {n} customers"
    if orders is not None:
        write_plain_csv(orders, args.out / f"orders{suffix}.csv")
        summary += f", {len(orders)} orders"
    print(f"{summary} written to {args.out} in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
