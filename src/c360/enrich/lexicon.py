"""c360's own keyword knowledge: titles, names and words with their genre, and marker rules.

Written by hand for a Vietnamese OTT service: well-known films, series, shows, channels, teams,
artists and the words people add when they search ("phim hàn", "trực tiếp", "karaoke"). It is
the out-of-the-box training set of the offline classifier and its first line of rules. It is not
derived from any evaluation set. ``LEXICON_VERSION`` changes whenever an entry changes.
"""

from __future__ import annotations

import re

LEXICON_VERSION = "lexicon-1"

_ENTRIES: dict[str, str] = {
    "Action": """
        nhiệm vụ bất khả thi|mission impossible|fast and furious|fast & furious|quá nhanh quá nguy hiểm
        john wick|người nhện|spider man|spiderman|avengers|biệt đội siêu anh hùng|avengers hồi kết
        batman|người dơi|the batman|superman|iron man|người sắt|captain america|thor|black panther
        venom|deadpool|transformers|robot đại chiến|kẻ hủy diệt|terminator|rambo|die hard|bourne
        điệp viên 007|james bond|diệp vấn|ip man|thành long|lý liên kiệt|chân tử đan|ngô kinh
        chiến lang|wolf warrior|hai phượng|mortal kombat|rồng đen|jurassic world|thế giới khủng long
        godzilla|king kong|kong đảo đầu lâu|pacific rim|mad max|the expendables|biệt đội đánh thuê
        top gun|top gun maverick|bullet train|sát thủ|xã hội đen|găng tơ|đặc nhiệm|biệt kích
        phim hành động|hành động|võ thuật|phim võ thuật|kungfu|kung fu|extraction|the equalizer
        taken|jason statham|tom cruise|vin diesel|the rock|gladiator|võ sĩ giác đấu|300 chiến binh
        aquaman|wonder woman|liên minh công lý|justice league|x-men|dị nhân|doctor strange
        guardians of the galaxy|vệ binh dải ngân hà|shang-chi|black widow|góa phụ đen
        hobbs and shaw|sniper|lính bắn tỉa|phim chiến tranh|chiến tranh|đội đặc nhiệm|cớm
        người vận chuyển|the transporter|kẻ trộm|phi vụ|siêu trộm|bom tấn|thiết quyền|lò võ
        the raid|đột kích|cuộc chiến|chiến binh|sát thủ john wick|hành động mỹ|phim hành động mỹ
        hạ sát|truy sát|báo thù|kẻ săn mồi|predator|alien|quái vật|thợ săn quái vật|monster hunter
        dune|hành tinh cát|avatar|thế thân|star wars|chiến tranh giữa các vì sao|matrix|ma trận
        """,
    "Romance": """
        mắt biếc|titanic|la la land|chạng vạng|twilight|me before you|the notebook|nhật ký tình yêu
        cô gái năm ấy chúng ta cùng theo đuổi|em của thời niên thiếu|yêu nhầm bạn thân
        500 ngày yêu|pride and prejudice|kiêu hãnh và định kiến|notting hill|a walk to remember
        một thoáng mong manh|after|after we collided|to all the boys|gửi những chàng trai tôi từng yêu
        the fault in our stars|khi lỗi thuộc về những vì sao|love actually|fifty shades|50 sắc thái
        romeo và juliet|romeo and juliet|dear john|the vow|tình yêu|chuyện tình|ngôn tình|lãng mạn
        phim tình cảm|tình cảm|phim lãng mạn|hẹn hò|người tình|nụ hôn|crush|tình đầu|mối tình đầu
        yêu|anh yêu em|em yêu anh|tình yêu không có lỗi|tháng năm rực rỡ|tôi thấy hoa vàng trên cỏ xanh
        phim thái lan|phim thái|thái lan|lakorn|định mệnh|người thứ ba|tình yêu và tham vọng
        bridgerton|normal people|before sunrise|trước lúc bình minh|call me by your name
        a star is born|vì sao vụt sáng|pretty woman|người đàn bà đẹp|the proposal|lời cầu hôn
        hôn lễ|đám cưới|cô dâu|chú rể|người yêu cũ|ex|yêu lại từ đầu|thanh xuân|tuổi thanh xuân
        """,
    "Comedy": """
        bố già|táo quân|mr bean|mr. bean|tuyệt đỉnh kung fu|lật mặt|trạng quỳnh|ở nhà một mình
        home alone|ông ngoại tuổi 30|hài|hài hước|phim hài|hài hoài linh|hoài linh|hài trấn thành
        trấn thành|xuân hinh|chí tài|trường giang|việt hương|thu trang|tiến luật|hài tết
        gặp nhau cuối năm|châu tinh trì|stephen chow|the mask|mặt nạ xanh|dumb and dumber
        rush hour|giờ cao điểm|hangover|ba chàng ngốc|3 idiots|hài kịch|tiểu phẩm|tiểu phẩm hài
        hài miền tây|chuyện cười|sitcom|hài bảo chung|hài vân sơn|vân sơn|hài quang thắng
        quang thắng|công lý|hài xuân bắc|xuân bắc|tự long|hài tự long|hài chiến thắng|hài kiều oanh
        hài việt|phim hài việt nam|cười|bựa|vui nhộn|hài trung quốc|hài thái lan|tây du ký hài
        nhà bà nữ|cua lại vợ bầu|em chưa 18|chị mười ba|siêu lầy gặp siêu lừa|ông trùm|đại ca
        """,
    "Horror": """
        annabelle|the conjuring|ám ảnh kinh hoàng|chú hề ma quái|it|insidious|quỷ quyệt|the nun
        ác quỷ ma sơ|saw|lưỡi cưa|final destination|lưỡi hái tử thần|cương thi|kumanthong|bắt ma
        phim ma|ma|kinh dị|phim kinh dị|quỷ|ác quỷ|thây ma|zombie|xác sống|train to busan
        chuyến tàu sinh tử|resident evil|vùng đất quỷ dữ|the ring|vòng tròn định mệnh|the grudge
        lời nguyền|búp bê ma|chucky|ma búp bê|lời nguyền ma búp bê|scream|tiếng thét|halloween
        the exorcist|quỷ ám|trừ tà|ngôi nhà ma ám|thất sơn tâm linh|tâm linh|rùng rợn|ma cà rồng
        vampire|người sói|jigsaw|the medium|ma nữ|hồn ma|oan hồn|bóng ma|ma thai|ma gia|phim ma thái
        ma da|quỷ cẩu|quỷ nhập tràng|bắp đùi|con nhót|the shining|ác mộng|dị nhân sát nhân|sát nhân
        smile|cười ma|m3gan|ma trận búp bê|nữ tu bóng tối|ma ám|rùng mình|chuyện ma gần nhà
        """,
    "Animation": """
        doraemon|doremon|đôrêmon|nobita|thám tử lừng danh conan|conan|detective conan|pokemon
        one piece|đảo hải tặc|naruto|boruto|dragon ball|7 viên ngọc rồng|bảy viên ngọc rồng
        shin cậu bé bút chì|shin|cậu bé bút chì|peppa pig|heo peppa|tom và jerry|tom and jerry
        frozen|nữ hoàng băng giá|baby shark|pinkfong|cocomelon|masha và chú gấu|masha|paw patrol
        đội chó cứu hộ|sofia|larva|ấu trùng tinh nghịch|minions|kẻ trộm mặt trăng|despicable me
        toy story|câu chuyện đồ chơi|cars|vương quốc xe hơi|finding nemo|đi tìm nemo|moana|coco
        zootopia|phi vụ động trời|kungfu panda|kung fu panda|shrek|ice age|kỷ băng hà|madagascar
        how to train your dragon|bí kíp luyện rồng|spirited away|vùng đất linh hồn|totoro|ghibli
        your name|tên cậu là gì|demon slayer|thanh gươm diệt quỷ|kimetsu no yaiba|attack on titan
        đại chiến titan|jujutsu kaisen|chú thuật hồi chiến|sailor moon|thủy thủ mặt trăng
        hoạt hình|phim hoạt hình|anime|cartoon|barbie|ben 10|super wings|robocar poli|tayo
        cậu bé rồng|tiểu tân|spongebob|chú bọt biển tinh nghịch|we bare bears|chúng tôi đơn giản là gấu
        mickey|chuột mickey|lego|ninjago|oggy|oggy và những chú gián|gấu boonie|boonie bears
        inuyasha|fairy tail|bleach|hunter x hunter|death note|one punch man|spy x family|bluey
        thiếu nhi|phim thiếu nhi|hoạt hình thiếu nhi|hoạt hình trung quốc|donghua|đấu la đại lục
        đấu phá thương khung|thế giới hoàn mỹ|tiên nghịch|na tra|ma đồng giáng thế|khương tử nha
        siêu nhân|siêu nhân gao|power rangers|ultraman|siêu nhân điện quang|kamen rider|gundam
        công chúa disney|disney|pixar|dreamworks|encanto|luca|elemental|xứ sở các nguyên tố
        the little mermaid|nàng tiên cá|aladdin|lion king|vua sư tử|tangled|công chúa tóc mây
        sing|đấu trường âm nhạc|the croods|gia đình croods|hotel transylvania|khách sạn huyền bí
        trolls|quỷ lùn tinh nghịch|angry birds|doraemon movie|xì trum|smurfs|pororo|chú chim cánh cụt
        """,
    "Drama": """
        thương ngày nắng về|về nhà đi con|hương vị tình thân|người phán xử|hoa hồng trên ngực trái
        11 tháng 5 ngày|quỳnh búp bê|bão ngầm|sống chung với mẹ chồng|gia đình là số 1|cây táo nở hoa
        mùa hoa tìm lại|đừng bắt em phải quên|cuộc đời vẫn đẹp sao|hãy nói lời yêu|nhà trọ balanha
        lựa chọn số phận|thương con cá rô đồng|anh có phải đàn ông không|những ngày không quên
        phố trong làng|mặt nạ gương|phim việt nam|phim việt|phim bộ việt nam|phim truyện việt nam
        tiếng sét trong mưa|cô dâu 8 tuổi|phim ấn độ|ấn độ|phim thổ nhĩ kỳ|thổ nhĩ kỳ|phim philippines
        the crown|breaking bad|forrest gump|shawshank|nhà tù shawshank|gia đình|mẹ chồng nàng dâu
        mẹ chồng|nàng dâu|ngoại tình|hôn nhân|số phận|cuộc sống|cuộc đời|phim bộ|phim truyền hình
        đấu trí|đi về nơi hoa nở|món quà của cha|lối về miền hoa|cô gái nhà người ta|hoa sữa về trong gió
        bán chồng|đánh cắp giấc mơ|trói buộc yêu thương|gara hạnh phúc|dưới bóng cây hạnh phúc
        ngày ấy mình đã yêu|cuộc chiến hôn nhân|tình khúc bạch dương|thương nhớ ở ai|về quê ăn tết
        phim mỹ|series mỹ|phim tâm lý|tâm lý|tâm lý xã hội|phim xã hội|gia đình bất ổn|nước mắt
        the good doctor|bác sĩ thiên tài|grey's anatomy|suits|prison break|vượt ngục|house of cards
        """,
    "C Drama": """
        tây du ký|hoàn châu cách cách|diên hi công lược|thần điêu đại hiệp|trần tình lệnh
        tam sinh tam thế thập lý đào hoa|tam sinh tam thế|hương mật tựa khói sương|bao thanh thiên
        thiên long bát bộ|tam quốc diễn nghĩa|tam quốc|lộc đỉnh ký|thương lan quyết|anh hùng xạ điêu
        ỷ thiên đồ long ký|tiếu ngạo giang hồ|hậu cung chân hoàn truyện|chân hoàn truyện|như ý truyện
        lang gia bảng|cổ kiếm kỳ đàm|hoa thiên cốt|sở kiều truyện|đông cung|lưu ly mỹ nhân sát
        trường ca hành|trường nguyệt tẫn minh|liên hoa lâu|dữ phượng hành|tinh hán xán lạn
        hạc lệ hoa đình|khánh dư niên|trạch thiên ký|võ lâm ngoại truyện|thiếu niên ca hành
        phong thần|tể tướng lưu gù|thủy hử|hồng lâu mộng|triệu lệ dĩnh|dương mịch|tiêu chiến
        vương nhất bác|lưu diệc phi|địch lệ nhiệt ba|cổ lực na trát|dương tử|ngu thư hân|bạch lộc
        la vân hi|ngô lỗi|phim trung quốc|phim tq|phim hoa ngữ|trung quốc|cổ trang|phim cổ trang
        cung đấu|tiên hiệp|xuyên không|hậu cung|hoàng thượng|vương gia|thái tử phi thăng chức ký
        tân dòng sông ly biệt|tình sâu mưa mịt mù|đông phương bất bại|kiếm hiệp|kim dung|quỳnh dao
        phim hồng kông|hồng kông|tvb|phim tvb|lâm tâm như|triệu vy|hoắc kiến hoa|chung hán lương
        đạo mộ bút ký|ma thổi đèn|cẩm tú nam ca|mộng hoa lục|thả thí thiên hạ|hộc châu phu nhân
        chiêu diêu|minh lan truyện|lưu thủy điều điều|vân tịch truyện|thất nguyệt và an sinh
        phim đài loan|đài loan|ngôn tình trung quốc|tổng tài|bá đạo tổng tài|cô vợ|vợ yêu
        """,
    "K Drama": """
        hạ cánh nơi anh|hậu duệ mặt trời|nữ luật sư kỳ lạ woo young woo|vincenzo|penthouse
        cuộc chiến thượng lưu|yêu tinh|goblin|trò chơi con mực|squid game|thế giới hôn nhân
        itaewon class|tầng lớp itaewon|vườn sao băng|nàng dae jang geum|lời hồi đáp 1988|reply 1988
        hospital playlist|những bác sĩ tài hoa|người thừa kế|the heirs|hotel del luna
        khách sạn ánh trăng|mr sunshine|quý ngài ánh dương|extraordinary attorney woo|the glory
        vinh quang trong thù hận|all of us are dead|ngôi trường xác sống|sky castle|lâu đài trên không
        start-up|khởi nghiệp|true beauty|vẻ đẹp đích thực|thư ký kim sao thế|hẹn hò chốn công sở
        crash landing on you|descendants of the sun|vì sao đưa anh tới|my love from the star
        ngôi nhà hạnh phúc|full house|boys over flowers|nấc thang lên thiên đường|trái tim mùa thu
        bản tình ca mùa đông|lee min ho|song joong ki|song hye kyo|hyun bin|son ye jin|park seo joon
        kim soo hyun|iu|jun ji hyun|lee jong suk|gong yoo|park min young|kim go eun|ji chang wook
        phim hàn|phim hàn quốc|phim hq|hàn quốc|kdrama|k-drama|korean drama|quân vương bất diệt
        cậu út nhà tài phiệt|reborn rich|bác sĩ cha|king the land|queen of tears|nữ hoàng nước mắt
        moving|big mouth|my mister|ông chú của tôi|signal|tín hiệu|kingdom|vương triều xác sống
        đêm hội|hoàng hậu ki|nữ hoàng seon deok|jumong|truyền thuyết jumong|nàng dae jang geum
        trò chơi vương quyền hàn|chuyện tình bác sĩ|lee jun ki|kim tae ri|song kang|cha eun woo
        """,
    "Sports": """
        manchester united|man utd|mu|ngoại hạng anh|premier league|v-league|v league|vleague
        bóng đá|real madrid|champions league|cúp c1|c1|liverpool|barcelona|barca|chelsea|arsenal
        man city|manchester city|tottenham|psg|bayern munich|bayern|juventus|inter milan|ac milan
        la liga|serie a|bundesliga|ligue 1|europa league|sea games|seagames|aff cup|aff suzuki cup
        world cup|euro|euro 2024|u23|u23 việt nam|đội tuyển việt nam|tuyển việt nam|ronaldo|messi
        quang hải|công phượng|văn hậu|tiến linh|bóng chuyền|bóng chuyền nữ|bóng rổ|nba|tennis
        quần vợt|f1|đua xe|motogp|ufc|boxing|quyền anh|mma|cầu lông|bi-a|billiards|bida|golf
        cờ vua|highlight|highlights|trực tiếp bóng đá|tường thuật|bình luận bóng đá|thể thao
        olympic|thế vận hội|bóng đá việt nam|bóng đá trực tiếp|futsal|pickleball|marathon
        hagl|hoàng anh gia lai|hà nội fc|viettel fc|công an hà nội|nam định|bình dương|sông lam nghệ an
        thái lan vs việt nam|việt nam vs|vòng loại world cup|asian cup|asiad|king's cup|ngoại hạng
        """,
    "Music": """
        sơn tùng m-tp|sơn tùng|đen vâu|blackpink|bts|mỹ tâm|hà anh tuấn|hoàng thùy linh|karaoke
        gala nhạc việt|nhạc|nhạc trẻ|nhạc bolero|bolero|remix|nhạc remix|nhạc vàng|nhạc đỏ
        nhạc cách mạng|nhạc không lời|nhạc phật|nhạc sống|nhạc trịnh|trịnh công sơn|đàm vĩnh hưng
        lệ quyên|quang lê|như quỳnh|paris by night|thúy nga|mv|music video|live show|liveshow
        concert|hòa nhạc|ca nhạc|tân cổ|cải lương|vọng cổ|jack|k-icm|erik|hòa minzy|bích phương
        min|amee|chi pu|noo phước thịnh|ưng hoàng phúc|lam trường|phan mạnh quỳnh|vũ|taylor swift
        justin bieber|adele|ed sheeran|twice|exo|bigbang|big bang|ariana grande|lofi|edm|rap
        bài hát|song|ca sĩ|liên khúc|tuyển tập|album|hit|top hit|nhạc hot|nhạc tiktok|nhạc hoa
        nhạc hàn|kpop|k-pop|nhạc âu mỹ|nhạc thiếu nhi|nhạc quê hương|dân ca|quan họ|nhạc xuân
        nhạc tết|nhạc sàn|nonstop|vinahouse|ballad|acoustic|cover|hát|hát karaoke|beat
        cẩm ly|phi nhung|mạnh quỳnh|hồ quang hiếu|khánh phương|lệ rơi|ngọc sơn|tuấn hưng|đan trường
        lam anh|quang dũng|tùng dương|hồng nhung|thanh lam|mỹ linh|bảo anh|hương tràm|đức phúc
        """,
    "Reality Show": """
        running man|2 ngày 1 đêm|hai ngày một đêm|rap việt|giọng hát việt|the voice|người ấy là ai
        ai là triệu phú|siêu trí tuệ|masterchef|vua đầu bếp|ơn giời cậu đây rồi|đường lên đỉnh olympia
        bố ơi mình đi đâu thế|nhanh như chớp|ký ức vui vẻ|gương mặt thân quen|thách thức danh hài
        king of rap|sao nhập ngũ|cuộc đua kỳ thú|amazing race|vietnam idol|việt nam idol|x factor
        got talent|tìm kiếm tài năng|vietnam's got talent|hoa hậu|miss universe|hoa hậu hoàn vũ
        hoa hậu việt nam|the face|next top model|vietnam next top model|chị đẹp đạp gió rẽ sóng
        anh trai say hi|anh trai vượt ngàn chông gai|7 nụ cười xuân|bạn muốn hẹn hò|hãy chọn giá đúng
        chiếc nón kỳ diệu|rung chuông vàng|gameshow|game show|tv show|truyền hình thực tế|thực tế
        knowing bros|produce 101|street woman fighter|i can see your voice|hidden singer
        the masked singer|ca sĩ mặt nạ|ca sĩ bí ẩn|giọng ải giọng ai|trời sinh một cặp|tuyệt đỉnh song ca
        người bí ẩn|thần tượng âm nhạc|sing my song|đấu trường âm nhạc nhí|giọng hát việt nhí
        shark tank|thương vụ bạc tỷ|mỹ nhân hành động|hành trình rực rỡ|muôn màu showbiz|show
        """,
    "TV Channel": """
        vtv1|vtv2|vtv3|vtv4|vtv5|vtv6|vtv7|vtv8|vtv9|vtv|htv7|htv9|htv2|htv3|htv|thvl1|thvl2|thvl
        vtc1|vtc3|vtc7|vtc9|vtc13|vtc14|vtc|k+1|k+ sport 1|k+ sport 2|k+ cine|k+ kids|k+ life|k+
        kplus|hbo|cinemax|cartoon network|disney channel|discovery|national geographic
        animal planet|fox movies|axn|cnn|bbc|star movies|cbeebies|baby tv|hgtv|today tv|antv
        vtv cần thơ|an viên|vtvcab|kênh|truyền hình|tv|hn1|hà nội 1|qpvn|quốc phòng|ttxvn|vnews
        vov|sctv|fbnc|o2tv|info tv|vinh long|vĩnh long|đồng nai|bình dương tv|kênh truyền hình
        truyền hình trực tiếp|xem tv|tivi|vtv go|htv key|let's viet|yan tv|vtv5 tây nguyên
        """,
    "News": """
        thời sự|tin tức|thời sự 19h|bản tin thời tiết|dự báo thời tiết|thời tiết|tin covid
        chuyển động 24h|giá vàng hôm nay|giá vàng|60 giây|bản tin tài chính|tin nóng|tin mới
        bản tin|news|chứng khoán|tài chính|kinh tế|quốc hội|vtv24|tin trong nước|tin quốc tế
        sự kiện|phóng sự|điều tra|an ninh|an ninh thế giới|toàn cảnh|thế giới hôm nay|tin tức 24h
        bản tin sáng|bản tin trưa|chào buổi sáng|chuyển động|tiêu điểm|nhịp sống|covid
        bầu cử|chiến sự|ukraine|tin thế giới|tin nhanh|thời sự quốc tế|giao thông|pháp luật
        """,
    "Other": """
        học tiếng anh|dạy nấu ăn|nấu ăn|yoga|tử vi|xổ số|phong thủy|du lịch|thể dục buổi sáng
        làm đẹp|youtube|tiktok|facebook|zalo|google|game|trò chơi|liên quân|free fire|minecraft
        khám phá|thế giới động vật|tài liệu|phim tài liệu|thiền|phật pháp|giảng|kinh phật|thầy
        học|dạy|hướng dẫn|cách làm|vẽ|test|asmr|review|phim|phim mới|phim hay|phim lẻ|tập
        sức khỏe|bác sĩ tư vấn|mẹo vặt|nông nghiệp|trồng rau|câu cá|xe|ô tô|điện thoại|mua sắm
        tiếng anh|toán|văn|lớp 1|lớp 12|ôn thi|bài giảng|ẩm thực|món ngon|công thức|làm bánh
        thể dục|aerobic|gym|zumba|nhảy|dance|múa|tập luyện|giảm cân|chăm sóc da|trang điểm
        """,
}

#: Words whose presence decides a genre on their own (tested on the diacritics-free form, as
#: whole words). The first rule that matches wins, so the more specific ones come first.
MARKERS: tuple[tuple[str, str], ...] = (
    (r"^(vtv|htv|thvl|vtc|hn)\s?\d{1,2}$|^k\+|^kenh\b", "TV Channel"),
    (r"\b(thoi su|ban tin|tin tuc|du bao thoi tiet|thoi tiet)\b", "News"),
    (r"\b(hoat hinh|anime|cartoon)\b", "Animation"),
    (r"\b(phim han|phim hq|han quoc|kdrama)\b", "K Drama"),
    (r"\b(phim trung quoc|phim tq|phim hoa ngu|trung quoc|co trang|tien hiep|cung dau)\b",
     "C Drama"),
    (r"\b(kinh di|phim ma)\b", "Horror"),
    (r"\b(karaoke|nhac|bolero|remix|lien khuc|mv|liveshow|live show)\b", "Music"),
    (r"\b(truc tiep bong da|bong da|ngoai hang|world cup|cup c1|highlights?)\b|\svs\s", "Sports"),
    (r"\b(gameshow|game show|truyen hinh thuc te|running man)\b", "Reality Show"),
    (r"\b(phim hai|hai huoc|tieu pham)\b", "Comedy"),
    (r"\b(phim hanh dong|hanh dong|vo thuat)\b", "Action"),
    (r"\b(phim tinh cam|ngon tinh|lang man)\b", "Romance"),
)  # fmt: skip
COMPILED_MARKERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), genre) for pattern, genre in MARKERS
)


def lexicon() -> dict[str, str]:
    """Every lexicon entry (as written, lower case) with its genre; the first genre wins."""
    entries: dict[str, str] = {}
    for genre, block in _ENTRIES.items():
        for line in block.strip().splitlines():
            for entry in line.split("|"):
                if entry.strip():
                    entries.setdefault(entry.strip().lower(), genre)
    return entries
