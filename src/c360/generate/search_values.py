"""The values the search-log generator draws from: genres' titles (the keyword → genre truth),
junk, platforms and their networks, ISPs and plans, with weights measured on a real day."""

from __future__ import annotations

from c360.config import SEARCH_CATEGORIES

#: How likely each of SEARCH_CATEGORIES is, in its order, as a genre a user or a search picks.
GENRE_WEIGHTS = (0.10, 0.06, 0.06, 0.05, 0.11, 0.09, 0.13, 0.12, 0.07, 0.04, 0.06, 0.05, 0.02, 0.04)
#: Titles per genre, most searched first (popularity within a genre is Zipf-like by this order).
TITLES = {
    "Action": "Fast & Furious 9|John Wick 3|Nhiệm Vụ Bất Khả Thi|Người Nhện|Diệp Vấn|Hai Phượng|"
        "Top Gun: Maverick|Biệt Đội Đánh Thuê|Avengers: Hồi Kết|Thợ Săn Quái Vật|Kẻ Hủy Diệt",
    "Romance": "Mắt Biếc|Titanic|La La Land|Chạng Vạng|Yêu Nhầm Bạn Thân|"
        "Cô Gái Năm Ấy Chúng Ta Cùng Theo Đuổi|Me Before You|Em Của Thời Niên Thiếu|"
        "Tình Yêu Không Có Lỗi|Nhật Ký Tình Yêu",
    "Comedy": "Bố Già|Táo Quân|Mr. Bean|Tuyệt Đỉnh Kung Fu|Lật Mặt|Trạng Quỳnh|Ở Nhà Một Mình|"
        "Ông Ngoại Tuổi 30|Hài Hoài Linh|Xuân Hinh|Chạy Đi Rồi Tính",
    "Horror": "Annabelle|Ám Ảnh Kinh Hoàng|Bắt Ma|Chuyện Ma Gần Nhà|Cương Thi|Kumanthong|Rùng Mình|"
        "Lời Nguyền Ma Búp Bê|Ngôi Nhà Ma Ám|Quỷ Quyệt",
    "Animation": "Doraemon|Thám Tử Lừng Danh Conan|Pokemon|One Piece|Naruto|Shin Cậu Bé Bút Chì|"
        "Peppa Pig|Tom và Jerry|Frozen|Dragon Ball|Baby Shark|Boruto|Cậu Bé Rồng",
    "Drama": "Thương Ngày Nắng Về|Về Nhà Đi Con|Hương Vị Tình Thân|Người Phán Xử|"
        "Hoa Hồng Trên Ngực Trái|11 Tháng 5 Ngày|Quỳnh Búp Bê|Bão Ngầm|Sống Chung Với Mẹ Chồng|"
        "Gia Đình Là Số 1|Cây Táo Nở Hoa",
    "C Drama": "Tây Du Ký|Hoàn Châu Cách Cách|Diên Hi Công Lược|Thần Điêu Đại Hiệp|Trần Tình Lệnh|"
        "Tam Sinh Tam Thế Thập Lý Đào Hoa|Hương Mật Tựa Khói Sương|Bao Thanh Thiên|"
        "Thiên Long Bát Bộ|Tam Quốc Diễn Nghĩa|Lộc Đỉnh Ký|Thương Lan Quyết",
    "K Drama": "Hạ Cánh Nơi Anh|Hậu Duệ Mặt Trời|Nữ Luật Sư Kỳ Lạ Woo Young Woo|Vincenzo|Penthouse|"
        "Yêu Tinh|Trò Chơi Con Mực|Thế Giới Hôn Nhân|Itaewon Class|Vườn Sao Băng|"
        "Nàng Dae Jang Geum|Lời Hồi Đáp 1988",
    "Sports": "Manchester United|Ngoại Hạng Anh|V-League|bóng đá|Real Madrid|Champions League|"
        "Liverpool|Barcelona|SEA Games 31|AFF Cup|Ronaldo|Quang Hải|bóng chuyền nữ",
    "Music": "Sơn Tùng M-TP|Đen Vâu|Blackpink|nhạc bolero|BTS|Mỹ Tâm|nhạc trẻ remix|Hà Anh Tuấn|"
        "Hoàng Thùy Linh|karaoke|Gala Nhạc Việt",
    "Reality Show": "Running Man|2 Ngày 1 Đêm|Rap Việt|Giọng Hát Việt|Người Ấy Là Ai|"
        "Ai Là Triệu Phú|Siêu Trí Tuệ|Masterchef|Ơn Giời Cậu Đây Rồi|Đường Lên Đỉnh Olympia|"
        "Bố Ơi Mình Đi Đâu Thế",
    "TV Channel": "vtv3|vtv1|htv7|vtv6|k+1|thvl1|htv2|vtc3|hbo|cartoon network|k+ sport 1",
    "News": "thời sự|tin tức|thời sự 19h|bản tin thời tiết|tin covid|chuyển động 24h|"
        "giá vàng hôm nay|60 giây|bản tin tài chính",
    "Other": "học tiếng anh|dạy nấu ăn|yoga|tử vi|xổ số|phong thủy|du lịch|thể dục buổi sáng|"
        "làm đẹp",
}  # fmt: skip
VOCABULARY: tuple[tuple[str, str], ...] = tuple(
    (t, g) for g in SEARCH_CATEGORIES for t in TITLES[g].split("|")
)
VOICE_PLACEHOLDER = "Tìm kiếm bằng giọng nói"
JUNK_KEYWORDS = (" ", "  ", ".", ",", "?", "...", "👍", "❤️", "🎬🍿", "😂😂")
EMOJIS = ("❤️", "😍", "🔥", "👍", "😂", "🥰")
JUNK_USER_IDS = ("abc", "", "null", "undefined", "12a45", "-1")
DECORATIONS = {"Sports": "trực tiếp {}", "TV Channel": "kênh {}", "News": "{} hôm nay",
                "Music": "{} mới nhất", "Other": "{} cho người mới"}  # fmt: skip
EPISODIC = {"Drama", "C Drama", "K Drama", "Animation", "Reality Show"}

#: (platform, weight, network profile); profiles index NETWORKS.
PLATFORMS = (
    ("android", 19219, 0), ("ios", 14798, 1), ("web-playfpt", 8177, 2),
    ("smarttv-sony-android", 7906, 3), ("smart-tv-normal", 5915, 3), ("fplay-ottbox-2019", 3455, 3),
    ("fplay-ottbox-sei-2020", 2580, 3), ("smarttv-ceb-nextgen", 2486, 2),
    ("smarttv-tcl-android", 2129, 3), ("smarttv-lg-nextgen", 1624, 2),
    ("smart-tv-normal-no-drm", 1320, 3), ("fplay-ottbox-sdmc", 1205, 3),
    ("smarttv-ss-nextgen-2016", 760, 2), ("fplay-ottbox-sdmc-2020", 682, 3),
    ("smarttv-pn-nextgen", 356, 2), ("smarttv-ss-nextgen-2015", 335, 2), ("smarttv", 195, 2),
    ("smarttv-tcl-nextgen", 182, 2), ("fplay-ottbox-sei-2021", 177, 3), ("vsmart", 140, 0),
)  # fmt: skip
NETWORKS: tuple[tuple[tuple[str | None, float], ...], ...] = (
    (("wifi", 0.89), ("3g", 0.098), ("###", 0.008), ("ethernet", 0.004)),
    (("WIFI", 0.915), ("WWAN", 0.0845), ("NO-INTERNET", 0.0005)),
    ((None, 1.0),),
    (("wifi", 0.74), ("ethernet", 0.23), ("###", 0.025), ("cab", 0.004), ("3g", 0.001)),
)
ISPS = (("viettel", 0.3875), ("vnpt", 0.3397), ("fpt", 0.2173), ("other", 0.0542), ("spt", 0.0013))
PLAN_NAMES = ("Kênh Gia Đình", "Kênh Quốc Tế", "Tắt quảng cáo", "HBO GO+", "VIP", "MAX",
              "Phim Đặc Sắc", "Phim Chiếu Rạp(TVOD)")  # fmt: skip
PLAN_SOURCES = ("promotion", "giftcode", "direct")
