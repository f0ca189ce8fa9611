#include "mockapi/nat_data.h"

#include <array>

namespace streamflow::mockapi {
namespace {

using SV = std::string_view;

// Titles.
constexpr std::array<SV, 1> kMr = {"Mr"};
constexpr std::array<SV, 3> kMs = {"Ms", "Mrs", "Miss"};
constexpr std::array<SV, 1> kMonsieur = {"Monsieur"};
constexpr std::array<SV, 2> kMadame = {"Madame", "Mademoiselle"};
constexpr std::array<SV, 1> kHerr = {"Herr"};
constexpr std::array<SV, 1> kFrau = {"Frau"};
constexpr std::array<SV, 1> kMeneer = {"Meneer"};
constexpr std::array<SV, 1> kMevrouw = {"Mevrouw"};

// Time zones are not per nationality in the real API: any record may carry any of these.
}  // namespace

#define LIST(name, ...)                      \
  constexpr SV name##_arr[] = {__VA_ARGS__}; \
  constexpr std::span<const SV> name{name##_arr};

namespace {
LIST(au_m, "Jack", "Oliver", "William", "Noah", "Thomas", "Lachlan", "Cooper", "Harrison", "Riley",
     "Mason")
LIST(au_f, "Charlotte", "Olivia", "Mia", "Isla", "Ava", "Matilda", "Chloe", "Zoe", "Ella", "Ruby")
LIST(au_l, "Walker", "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Kelly",
     "O'Connor")
LIST(au_s, "Mill Lane", "George Street", "Pitt Street", "Dalhousie Street", "Brock Rd", "Karen Dr",
     "Ormond Quay")
LIST(au_c, "Bendigo", "Ballarat", "Geelong", "Wollongong", "Cairns", "Darwin", "Hobart",
     "Toowoomba")
LIST(au_st, "Victoria", "Queensland", "New South Wales", "Tasmania", "Western Australia",
     "Northern Territory")

LIST(br_m, "João|Joao", "Lucas", "Thiago", "Gabriel", "Raul", "Caetano", "Otávio|Otavio",
     "Ícaro|Icaro", "Benício|Benicio")
LIST(br_f, "Ana", "Luíza|Luiza", "Vitória|Vitoria", "Lívia|Livia", "Cecília|Cecilia", "Beatriz",
     "Estér|Ester", "Lara")
LIST(br_l, "Araújo|Araujo", "Silva", "Souza", "Gonçalves|Goncalves", "Nascimento", "Mendes",
     "Rocha", "da Conceição|daConceicao")
LIST(br_s, "Rua Três", "Rua Principal", "Rua Belo Horizonte", "Rua São Jorge", "Avenida Brasil",
     "Rua da Saudade")
LIST(br_c, "Belo Horizonte", "São Luís", "Juazeiro do Norte", "Itapevi", "Ribeirão das Neves",
     "Anápolis", "Maringá")
LIST(br_st, "Minas Gerais", "Maranhão", "Ceará", "São Paulo", "Goiás", "Paraná", "Pará")

LIST(ca_m, "Liam", "Noah", "Félix|Felix", "Nathan", "Zachary", "Mathis", "Olivier", "Logan")
LIST(ca_f, "Chloé|Chloe", "Emma", "Léa|Lea", "Charlotte", "Florence", "Maëlle|Maelle", "Sophie",
     "Olivia")
LIST(ca_l, "Gagnon", "Roy", "Côté|Cote", "Bouchard", "Tremblay", "Wong", "Singh", "MacDonald")
LIST(ca_s, "Dufferin St", "Main St", "Bay Ave", "Regent Ave", "Rue Principale", "King St")
LIST(ca_c, "Saint-Hyacinthe", "Trois-Rivières", "Kingston", "Moncton", "Red Deer", "Lévis",
     "Burnaby")
LIST(ca_st, "Québec", "Ontario", "New Brunswick", "Alberta", "British Columbia", "Nova Scotia",
     "Yukon")

LIST(ch_m, "Noah", "Luca", "Léon|Leon", "Gian", "Elias", "Matteo", "Loïc|Loic", "Nils")
LIST(ch_f, "Mia", "Lena", "Léa|Lea", "Alina", "Chiara", "Anaïs|Anais", "Nora", "Elin")
LIST(ch_l, "Müller|Muller", "Meier", "Schmid", "Rochat", "Fontana", "Bernard", "Gauthier",
     "Brunner")
LIST(ch_s, "Rue du Bât-d'Argent", "Place de l'Europe", "Bahnhofstrasse", "Rue Dumenge", "Via Nassa")
LIST(ch_c, "Bülach", "Zürich", "Lausanne", "Genève", "Lugano", "Biel/Bienne", "Neuchâtel")
LIST(ch_st, "Zürich", "Vaud", "Genève", "Ticino", "Bern", "Neuchâtel", "Graubünden")

LIST(de_m, "Lukas", "Jonas", "Felix", "Maximilian", "Jürgen|Jurgen", "Günter|Gunter", "Timo",
     "Erik")
LIST(de_f, "Lea", "Hannah", "Lina", "Sophie", "Jördis|Jordis", "Käthe|Kathe", "Mareike", "Brigitte")
LIST(de_l, "Schröder|Schroder", "Müller|Muller", "Weiß|Weiss", "Hoffmann", "Krüger|Kruger",
     "Becker", "Wagner", "Voß|Voss")
LIST(de_s, "Schlossstraße", "Mühlenweg", "Am Bahnhof", "Gartenstraße", "Birkenweg", "Lindenstraße")
LIST(de_c, "Görlitz", "Würzburg", "Köln", "Lüneburg", "Fürth", "Düsseldorf", "Straßkirchen")
LIST(de_st, "Sachsen", "Bayern", "Nordrhein-Westfalen", "Niedersachsen", "Thüringen",
     "Baden-Württemberg")

LIST(dk_m, "Mikkel", "Frederik", "Magnus", "Emil", "Søren|Soren", "Asger", "Mads", "Villads")
LIST(dk_f, "Freja", "Ida", "Sofie", "Mathilde", "Kirsten", "Maja", "Astrid", "Line")
LIST(dk_l, "Sørensen|Sorensen", "Jensen", "Nielsen", "Hansen", "Pedersen", "Møller|Moller",
     "Kristensen", "Olsen")
LIST(dk_s, "Østergade", "Vesterbrogade", "Nørregade", "Kongevejen", "Skolevej", "Ved Stranden")
LIST(dk_c, "Aarhus N", "København V", "Odense", "Aalborg", "Lyngby", "Nørre Alslev", "Ryslinge")
LIST(dk_st, "Midtjylland", "Hovedstaden", "Syddanmark", "Nordjylland", "Sjælland")

LIST(es_m, "Hugo", "Martín|Martin", "Álvaro|Alvaro", "Iván|Ivan", "Jesús|Jesus", "Gonzalo",
     "Ismael", "Rubén|Ruben")
LIST(es_f, "Lucía|Lucia", "Sofía|Sofia", "Inés|Ines", "Nuria", "Ainhoa", "Rocío|Rocio",
     "Begoña|Begona", "Paula")
LIST(es_l, "Núñez|Nunez", "García|Garcia", "Fernández|Fernandez", "Muñoz|Munoz", "Ibáñez|Ibanez",
     "Vidal", "Castro", "Gil")
LIST(es_s, "Calle de Alcalá", "Avenida de Andalucía", "Calle de la Almudena", "Calle de Segovia",
     "Paseo de Zorrilla")
LIST(es_c, "Málaga", "Córdoba", "Cádiz", "Santander", "Ávila", "Alcorcón", "Logroño")
LIST(es_st, "Andalucía", "Cantabria", "Castilla y León", "Comunidad de Madrid", "La Rioja",
     "Galicia")

LIST(fi_m, "Eetu", "Onni", "Väinö|Vaino", "Aatu", "Jimi", "Leevi", "Niilo", "Topias")
LIST(fi_f, "Aino", "Venla", "Siiri", "Ella", "Elli", "Iida", "Minea", "Pihla")
LIST(fi_l, "Mäkinen|Makinen", "Korhonen", "Virtanen", "Nieminen", "Hämäläinen|Hamalainen",
     "Heikkinen", "Lehtonen")
LIST(fi_s, "Hämeenkatu", "Mannerheimintie", "Pispalan Valtatie", "Aleksanterinkatu", "Tehtaankatu")
LIST(fi_c, "Hämeenlinna", "Jyväskylä", "Tampere", "Oulu", "Seinäjoki", "Mäntsälä")
LIST(fi_st, "Kanta-Häme", "Keski-Suomi", "Pirkanmaa", "Pohjois-Pohjanmaa", "Uusimaa")

LIST(fr_m, "Lucas", "Hugo", "Mathéo|Matheo", "Timothée|Timothee", "Loïc|Loic", "Noé|Noe",
     "Raphaël|Raphael", "Aurélien|Aurelien")
LIST(fr_f, "Maëlle|Maelle", "Léna|Lena", "Chloé|Chloe", "Anaïs|Anais", "Inès|Ines", "Zoé|Zoe",
     "Océane|Oceane", "Clémence|Clemence")
LIST(fr_l, "Lefèvre|Lefevre", "Martin", "Bernard", "Dubois", "Girard", "Mercier", "Leroy",
     "Rousseau")
LIST(fr_s, "Place de l'Abbé-Jean-Lebeuf", "Rue de l'Abbé-Grégoire", "Rue Dumenge",
     "Avenue Jean-Jaurès", "Rue Pasteur")
LIST(fr_c, "Saint-Étienne", "Besançon", "Orléans", "Nîmes", "Aix-en-Provence", "Créteil", "Le Mans")
LIST(fr_st, "Loire", "Doubs", "Loiret", "Gard", "Bouches-du-Rhône", "Val-de-Marne", "Sarthe")

LIST(gb_m, "Oliver", "Harry", "George", "Jack", "Alfie", "Rhys", "Callum", "Owen")
LIST(gb_f, "Amelia", "Isla", "Poppy", "Freya", "Eleanor", "Niamh", "Bethany", "Megan")
LIST(gb_l, "O'Brien|OBrien", "Smith", "Jones", "Davies", "Evans", "Murphy", "Robinson", "Wright")
LIST(gb_s, "Queen's Road", "High Street", "Church Lane", "Mill Road", "Springfield Road",
     "The Crescent")
LIST(gb_c, "Milton Keynes", "Stoke-on-Trent", "Bradford", "Brighton and Hove", "Aberdeen",
     "St Albans")
LIST(gb_st, "Buckinghamshire", "Staffordshire", "West Yorkshire", "East Sussex", "Grampian",
     "Hertfordshire")

LIST(ie_m, "Seán|Sean", "Cian", "Oisín|Oisin", "Darragh", "Pádraig|Padraig", "Eoin",
     "Ciarán|Ciaran", "Conor")
LIST(ie_f, "Aoife", "Siobhán|Siobhan", "Niamh", "Saoirse", "Caoimhe", "Róisín|Roisin", "Orla",
     "Clodagh")
LIST(ie_l, "Ó Súilleabháin|OSuilleabhain", "Murphy", "Kelly", "O'Sullivan|OSullivan", "Walsh",
     "McCarthy", "Byrne", "Ryan")
LIST(ie_s, "Grafton Street", "Main Street", "Patrick Street", "Ormond Quay", "Strand Road",
     "Church Road")
LIST(ie_c, "Dún Laoghaire", "Galway", "Cork", "Kilkenny", "Tralee", "Clonmel", "Dundalk")
LIST(ie_st, "Dublin", "Galway", "Cork", "Kilkenny", "Kerry", "Tipperary", "Louth")

LIST(in_m, "Aarav", "Vihaan", "Arjun", "Sai", "Reyansh", "Ayaan", "Krishna", "Ishaan")
LIST(in_f, "Saanvi", "Aanya", "Diya", "Ananya", "Pari", "Myra", "Malathy", "Kavya")
LIST(in_l, "Shetty", "Acharya", "Sharma", "Reddy", "Iyer", "Nair", "Bhat", "Kulkarni")
LIST(in_s, "Chaman Ganj", "MG Road", "Nehru Nagar", "Station Road", "Gandhi Chowk", "Park Street")
LIST(in_c, "Satara", "Nashik", "Surat", "Vijayawada", "Ludhiana", "Madurai", "Kolhapur")
LIST(in_st, "Goa", "Maharashtra", "Gujarat", "Andhra Pradesh", "Punjab", "Tamil Nadu", "Karnataka")

// Persian script; compound names carry a ZERO WIDTH NON-JOINER (U+200C), as real data does.
LIST(ir_m, "پارسا|parsa", "محمد\u200cرضا|mohammadreza", "امیرعلی|amirali", "علی|ali",
     "حسین|hossein", "سینا|sina", "آرین|arian")
LIST(ir_f, "نازنین|nazanin", "فاطمه|fatemeh", "زهرا|zahra", "نیایش|niayesh", "یسنا|yasna",
     "ستایش|setayesh", "مهسا|mahsa")
LIST(ir_l, "رضایی|rezaei", "احمدی|ahmadi", "کریمی|karimi", "حسینی|hosseini", "موسوی|mousavi",
     "صدر|sadr", "نکونام|nekounam")
LIST(ir_s, "میدان آزادی", "خیابان ولیعصر", "شهید بهشتی", "پارک لاله", "کوی نصر")
LIST(ir_c, "اصفهان", "تهران", "شیراز", "تبریز", "مشهد", "کرج", "قم")
LIST(ir_st, "اصفهان", "تهران", "فارس", "آذربایجان شرقی", "خراسان رضوی", "البرز")

LIST(mx_m, "José Luis|JoseLuis", "Santiago", "Mateo", "Sebastián|Sebastian", "Emiliano", "Diego",
     "Iker", "Rodrigo")
LIST(mx_f, "Ximena", "Valentina", "Regina", "María José|MariaJose", "Renata", "Camila", "Fernanda",
     "Guadalupe")
LIST(mx_l, "Domínguez|Dominguez", "Hernández|Hernandez", "López|Lopez", "Pérez|Perez",
     "Sánchez|Sanchez", "Ramírez|Ramirez", "Cruz")
LIST(mx_s, "Avenida Juárez", "Calle Hidalgo", "Calzada Ramírez", "Privada Norte",
     "Eje Vial Morelos")
LIST(mx_c, "San Luis Potosí", "Querétaro", "Mérida", "Tlaxcala", "Ciudad Juárez", "Cancún")
LIST(mx_st, "Nuevo León", "Querétaro", "Yucatán", "Tlaxcala", "Chihuahua", "Quintana Roo",
     "Michoacán")

LIST(nl_m, "Daan", "Sem", "Bram", "Thijs", "Jurriën|Jurrien", "Gijs", "Ruud", "Sjoerd")
LIST(nl_f, "Femke", "Sanne", "Anouk", "Fenna", "Marieke", "Jikke", "Lotte", "Ilse")
LIST(nl_l, "van der Berg|vanderBerg", "de Vries", "Jansen", "Bakker", "Visser", "van Dijk|vanDijk",
     "Smit", "Mulder")
LIST(nl_s, "Oude Gracht", "Kerkstraat", "Dorpsstraat", "Jan Pieterszoon Coenstraat", "Molenweg")
LIST(nl_c, "'s-Hertogenbosch", "Utrecht", "Maasdriel", "Zwolle", "Den Helder", "Leeuwarden")
LIST(nl_st, "Noord-Brabant", "Utrecht", "Gelderland", "Overijssel", "Noord-Holland", "Friesland")

LIST(no_m, "Ørjan|Orjan", "Håkon|Hakon", "Sindre", "Magnus", "Eirik", "Tobias", "Aksel", "Kasper")
LIST(no_f, "Ingrid", "Sigrid", "Åse|Ase", "Nora", "Tuva", "Ragnhild", "Maja", "Live")
LIST(no_l, "Haugen", "Hansen", "Johansen", "Løken|Loken", "Berg", "Bakke", "Strøm|Strom", "Aasen")
LIST(no_s, "Bjørnstjerne Bjørnsons gate", "Karl Johans gate", "Storgata", "Kirkeveien", "Sjøgata")
LIST(no_c, "Tromsø", "Bodø", "Ålesund", "Hønefoss", "Lillehammer", "Kristiansand")
LIST(no_st, "Troms", "Nordland", "Møre og Romsdal", "Buskerud", "Innlandet", "Agder")

LIST(nz_m, "Aroha|Aroha", "Nikau", "Tama", "Liam", "Hunter", "Lucas", "William", "Hemi")
LIST(nz_f, "Aroha", "Ruby", "Charlotte", "Mia", "Kaia", "Isla", "Maia", "Anahera")
LIST(nz_l, "Ngata", "Wilson", "Thompson", "Walker", "Roberts", "Te Whata|TeWhata", "Tipene",
     "Clarke")
LIST(nz_s, "Te Awe Awe Street", "Great South Road", "Cuba Street", "Ponsonby Road", "Wairakei Road")
LIST(nz_c, "Whangārei", "Tauranga", "Palmerston North", "Napier", "Nelson", "Rotorua")
LIST(nz_st, "Northland", "Bay of Plenty", "Manawatu-Wanganui", "Hawke's Bay", "Tasman", "Waikato")

// Serbian in Cyrillic, as served.
LIST(rs_m, "Милош|milos", "Никола|nikola", "Лазар|lazar", "Вук|vuk", "Ђорђе|djordje",
     "Стефан|stefan", "Душан|dusan")
LIST(rs_f, "Милица|milica", "Јована|jovana", "Ана|ana", "Ђурђина|djurdjina", "Теодора|teodora",
     "Драгана|dragana")
LIST(rs_l, "Јовановић|jovanovic", "Петровић|petrovic", "Николић|nikolic", "Ђорђевић|djordjevic",
     "Марковић|markovic", "Стојановић|stojanovic")
LIST(rs_s, "Кнеза Милоша", "Булевар ослобођења", "Цара Душана", "Његошева", "Вука Караџића")
LIST(rs_c, "Нови Сад", "Београд", "Ниш", "Крагујевац", "Суботица", "Чачак")
LIST(rs_st, "Јужнобачки", "Београдски", "Нишавски", "Шумадијски", "Севернобачки", "Моравички")

LIST(tr_m, "Emir", "Yusuf", "Çınar|Cinar", "Ömer|Omer", "Eymen", "Kerem", "Doğan|Dogan",
     "Şahin|Sahin")
LIST(tr_f, "Şükran|Sukran", "Zeynep", "Elif", "Ayşe|Ayse", "Gülsüm|Gulsum", "Nisa", "Öykü|Oyku",
     "Defne")
LIST(tr_l, "Yıldırım|Yildirim", "Yılmaz|Yilmaz", "Öztürk|Ozturk", "Şahin|Sahin", "Çelik|Celik",
     "Doğan|Dogan", "Aydın|Aydin")
LIST(tr_s, "Atatürk Cd", "Fatih Sultan Mehmet Cd", "İstiklal Cd", "Necatibey Cd", "Bağdat Cd")
LIST(tr_c, "Şanlıurfa", "İstanbul", "Eskişehir", "Muğla", "Kırıkkale", "Çanakkale")
LIST(tr_st, "Şanlıurfa", "İstanbul", "Eskişehir", "Muğla", "Kırıkkale", "Çanakkale")

// Ukrainian in Cyrillic; one place name mixes a Cyrillic letter into Latin text, as served.
LIST(ua_m, "Ярослав|yaroslav", "Олександр|oleksandr", "Богдан|bogdan", "Тарас|taras",
     "Мирослав|miroslav", "Святослав|svyatoslav")
LIST(ua_f, "Олена|olena", "Ярина|yarina", "Соломія|solomiya", "Злата|zlata", "Ганна|ganna",
     "Мілена|milena")
LIST(ua_l, "Гордієнко|gordiyenko", "Шевченко|shevchenko", "Коваленко|kovalenko",
     "Бондаренко|bondarenko", "Ткачук|tkachuk", "Мельник|melnik")
LIST(ua_s, "Вулиця Шевченка", "Вулиця Лесі Українки", "Проспект Перемоги", "Вулиця Франка",
     "Vulytsia Sadova")
LIST(ua_c, "Житомир", "Київ", "Львів", "Одеса", "Харків", "Tern\u043Epil")
LIST(ua_st, "Житомирська", "Київська", "Львівська", "Одеська", "Харківська", "Тернопільська")

LIST(us_m, "Brandon", "Tyler", "Dwayne", "Clifford", "Jesse", "Marvin", "Leroy", "Wyatt")
LIST(us_f, "Jennie", "Kelly", "Joann", "Tracey", "Sherry", "Ella", "Carolyn", "Brianna")
LIST(us_l, "Nichols", "Jenkins", "Wheeler", "Hoffman", "Fletcher", "Reyes", "Carpenter",
     "O'Neill|ONeill")
LIST(us_s, "Valwood Pkwy", "Robinson Rd", "W Sherman Dr", "Hickory Creek Dr", "Lovers Ln",
     "Pecan Acres Ln")
LIST(us_c, "Billings", "Tallahassee", "Fort Wayne", "Corpus Christi", "Flint", "Roseville")
LIST(us_st, "Michigan", "Florida", "Indiana", "Texas", "Montana", "California", "Oregon")
}  // namespace

#undef LIST

std::span<const NatData> nationalities() {
  static const NatData kNats[] = {
      {"AU",
       "Australia",
       au_m,
       au_f,
       au_l,
       au_s,
       au_c,
       au_st,
       kMr,
       kMs,
       {"####", true},
       "0#-####-####",
       "04##-###-###",
       "TFN",
       "#########"},
      {"BR",
       "Brazil",
       br_m,
       br_f,
       br_l,
       br_s,
       br_c,
       br_st,
       kMr,
       kMs,
       {"#####", true},
       "(##) ####-####",
       "(##) #####-####",
       "CPF",
       "###.###.###-##"},
      {"CA",
       "Canada",
       ca_m,
       ca_f,
       ca_l,
       ca_s,
       ca_c,
       ca_st,
       kMr,
       kMs,
       {"@#@ #@#", false},
       "@## @##-####",
       "@## @##-####",
       "SIN",
       "#########"},
      {"CH",
       "Switzerland",
       ch_m,
       ch_f,
       ch_l,
       ch_s,
       ch_c,
       ch_st,
       kMonsieur,
       kMadame,
       {"####", true},
       "07# ### ## ##",
       "07# ### ## ##",
       "AVS",
       "756.####.####.##"},
      {"DE",
       "Germany",
       de_m,
       de_f,
       de_l,
       de_s,
       de_c,
       de_st,
       kHerr,
       kFrau,
       {"#####", true},
       "0###-#######",
       "017#-#######",
       "SVNR",
       "## ###### @ ###"},
      {"DK",
       "Denmark",
       dk_m,
       dk_f,
       dk_l,
       dk_s,
       dk_c,
       dk_st,
       kMr,
       kMs,
       {"####", true},
       "########",
       "########",
       "CPR",
       "######-####"},
      {"ES",
       "Spain",
       es_m,
       es_f,
       es_l,
       es_s,
       es_c,
       es_st,
       kMr,
       kMs,
       {"#####", true},
       "9##-###-###",
       "6##-###-###",
       "DNI",
       "########-@"},
      {"FI",
       "Finland",
       fi_m,
       fi_f,
       fi_l,
       fi_s,
       fi_c,
       fi_st,
       kMr,
       kMs,
       {"#####", true},
       "0#-###-###",
       "04#-###-##-##",
       "HETU",
       "NaNNA###undefined"},
      {"FR",
       "France",
       fr_m,
       fr_f,
       fr_l,
       fr_s,
       fr_c,
       fr_st,
       kMonsieur,
       kMadame,
       {"#####", true},
       "0#-##-##-##-##",
       "06-##-##-##-##",
       "INSEE",
       "############# ##"},
      {"GB",
       "United Kingdom",
       gb_m,
       gb_f,
       gb_l,
       gb_s,
       gb_c,
       gb_st,
       kMr,
       kMs,
       {"@@# #@@", false},
       "0##### #####",
       "07### ######",
       "NINO",
       "@@ ## ## ## @"},
      {"IE",
       "Ireland",
       ie_m,
       ie_f,
       ie_l,
       ie_s,
       ie_c,
       ie_st,
       kMr,
       kMs,
       {"@## @#@#", false},
       "0##-###-####",
       "08#-###-####",
       "PPS",
       "#######@@"},
      {"IN",
       "India",
       in_m,
       in_f,
       in_l,
       in_s,
       in_c,
       in_st,
       kMr,
       kMs,
       {"######", true},
       "##########",
       "##########",
       "UIDAI",
       "############"},
      {"IR",
       "Iran",
       ir_m,
       ir_f,
       ir_l,
       ir_s,
       ir_c,
       ir_st,
       kMr,
       kMs,
       {"#####", true},
       "0##-########",
       "09##-###-####",
       "",
       ""},
      {"MX",
       "Mexico",
       mx_m,
       mx_f,
       mx_l,
       mx_s,
       mx_c,
       mx_st,
       kMr,
       kMs,
       {"#####", true},
       "(6##) ### ####",
       "(6##) ### ####",
       "NSS",
       "## ## ## #### #"},
      {"NL",
       "Netherlands",
       nl_m,
       nl_f,
       nl_l,
       nl_s,
       nl_c,
       nl_st,
       kMeneer,
       kMevrouw,
       {"#### @@", false},
       "(0##) #######",
       "(06) ########",
       "BSN",
       "########"},
      {"NO",
       "Norway",
       no_m,
       no_f,
       no_l,
       no_s,
       no_c,
       no_st,
       kMr,
       kMs,
       {"0###", false},
       "########",
       "4#######",
       "FN",
       "###########"},
      {"NZ",
       "New Zealand",
       nz_m,
       nz_f,
       nz_l,
       nz_s,
       nz_c,
       nz_st,
       kMr,
       kMs,
       {"####", true},
       "(###)-###-####",
       "(0##)-###-####",
       "",
       ""},
      {"RS",
       "Serbia",
       rs_m,
       rs_f,
       rs_l,
       rs_s,
       rs_c,
       rs_st,
       kMr,
       kMs,
       {"#####", true},
       "0##-####-###",
       "06#-####-###",
       "SID",
       "############"},
      {"TR",
       "Turkey",
       tr_m,
       tr_f,
       tr_l,
       tr_s,
       tr_c,
       tr_st,
       kMr,
       kMs,
       {"#####", true},
       "(###)-###-####",
       "(5##)-###-####",
       "",
       ""},
      {"UA",
       "Ukraine",
       ua_m,
       ua_f,
       ua_l,
       ua_s,
       ua_c,
       ua_st,
       kMr,
       kMs,
       {"#####", true},
       "(0##) @##-####",
       "(0##) @##-####",
       "",
       ""},
      {"US",
       "United States",
       us_m,
       us_f,
       us_l,
       us_s,
       us_c,
       us_st,
       kMr,
       kMs,
       {"#####", true},
       "(###) ###-####",
       "(###) ###-####",
       "SSN",
       "###-##-####"},
  };
  return kNats;
}

const NatData* find_nat(std::string_view code) {
  for (const auto& n : nationalities()) {
    if (n.code == code) return &n;
  }
  return nullptr;
}

std::string_view display_part(std::string_view entry) {
  auto bar = entry.find('|');
  return bar == std::string_view::npos ? entry : entry.substr(0, bar);
}

std::string_view latin_part(std::string_view entry) {
  auto bar = entry.find('|');
  return bar == std::string_view::npos ? entry : entry.substr(bar + 1);
}

}  // namespace streamflow::mockapi
