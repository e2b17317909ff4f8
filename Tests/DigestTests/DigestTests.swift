import Digest
import Testing

@Suite struct DigestTests {
    @Test func md5OfKnownStrings() {
        #expect(Digest.md5(Array("".utf8)).hexString == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Digest.md5(Array("The quick brown fox jumps over the lazy dog".utf8)).hexString == "9e107d9d372bb6826bd81d3542a419d6")
    }

    @Test func sha256OfKnownStrings() {
        #expect(Digest.sha256("abc").hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func incrementalEqualsOneShot() {
        let hasher = DigestHasher(.sha256)
        hasher.update("a")
        hasher.update("bc")
        #expect(hasher.finalize() == Digest.sha256("abc"))
    }

    @Test func hmacRFC4231Case2() {
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), "what do ya want for nothing?")
        #expect(mac.hexString == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func randomBytesDiffer() {
        let a = Digest.randomBytes(16)
        let b = Digest.randomBytes(16)
        #expect(a.count == 16)
        #expect(a != b)
    }
}
